"""The usage upsert runs against SQLite with the project's own migrations: D1 is SQLite."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference import cache, usage
from shared.contract import Caller, ChatMessage, GenerationRequest
from shared.workers_ai import Usage

MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))


@pytest.fixture
def db():
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    return conn


def record(conn, outcome, prompt, completion, key="k1"):
    call = usage.CallRecord(Caller(key_id=key), "m", "chat", outcome, Usage(prompt, completion), 10, 5)
    # D1's numbered parameters (?1 ...) are SQLite's own.
    conn.execute(usage.RECORD_USAGE_SQL, call.usage_params(datetime(2026, 11, 22, tzinfo=UTC)))


def test_usage_accumulates_per_key_and_day(db):
    record(db, "ok", 10, 5)
    record(db, "cache_hit", 10, 5)
    record(db, "ok", 1, 1, key="k2")

    rows = db.execute("SELECT key_id, day, requests, prompt_tokens, completion_tokens, cache_hits FROM usage_daily ORDER BY key_id").fetchall()
    assert rows == [("k1", "2026-11-22", 2, 20, 10, 1), ("k2", "2026-11-22", 1, 1, 1, 0)]


def test_a_data_point_has_one_index_and_the_call_measures():
    call = usage.CallRecord(Caller(key_id="k1", tier="pro"), "m", "chat", "ok", Usage(3, 4), 12.345, 6.789)

    assert call.data_point() == {"indexes": ["k1"], "blobs": ["m", "chat", "ok", "pro"], "doubles": [12.35, 6.79, 3, 4]}


def generation(**extra):
    fields = {"request_id": "r", "caller": Caller(key_id="k"), "kind": "chat", "model": "m",
              "messages": [ChatMessage(role="user", content="hi")], "max_tokens": 10, "stream_id": "s", **extra}
    return GenerationRequest(**fields)


def test_only_temperature_zero_is_cached_and_the_key_ignores_the_caller():
    assert cache.cache_key(generation()) is None
    assert cache.cache_key(generation(temperature=0.7)) is None
    key = cache.cache_key(generation(temperature=0))
    assert key == cache.cache_key(generation(temperature=0, request_id="other", caller=Caller(key_id="z")))
    assert key != cache.cache_key(generation(temperature=0, max_tokens=11))


def test_replay_pieces_rebuild_the_text():
    text = "Hello  there,\nworld "
    assert "".join(cache.replay_pieces(text)) == text
    assert cache.replay_pieces(text) == ["Hello", "  there,", "\nworld", " "]
