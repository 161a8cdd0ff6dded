"""Usage records through the store (SQLite with the project's migrations, tests/fakes.py),
their Analytics Engine points, and the generation cache's keys."""

import asyncio
from datetime import UTC, datetime

from inference import cache, usage
from inference.settings import settings_of
from inference.store.records import ModelCallRecord
from inference.store.telemetry import call_point
from shared.contract import Caller, ChatMessage, GenerationRequest
from shared.workers_ai import Usage
from tests.fakes import inference_env


def call(outcome, prompt, completion, key="k1"):
    return ModelCallRecord(Caller(key_id=key, tier="pro"), "m", "chat", outcome, Usage(prompt, completion), 10, 5)


def test_usage_accumulates_per_key_and_day_with_a_point_each():
    env = inference_env()

    async def three():
        for record in (call("ok", 10, 5), call("cache_hit", 10, 5), call("ok", 1, 1, key="k2")):
            await usage.record(env, record)

    asyncio.run(three())

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    rows = env.DB.rows("SELECT key_id, day, requests, prompt_tokens, completion_tokens, cache_hits FROM usage_daily ORDER BY key_id")
    assert rows == [("k1", today, 2, 20, 10, 1), ("k2", today, 1, 1, 1, 0)]
    assert env.DB.rows("SELECT key_id, outcome FROM ai_calls ORDER BY rowid") == [("k1", "ok"), ("k1", "cache_hit"), ("k2", "ok")]
    assert len(env.ANALYTICS.points) == 3


def test_a_failed_record_is_logged_not_raised_and_its_point_still_written(capsys):
    env = inference_env()
    env.DB.failing = "usage_daily"

    asyncio.run(usage.record_quietly(env, call("ok", 1, 1), "req-9"))

    assert "usage record failed for request req-9" in capsys.readouterr().out
    assert env.DB.rows("SELECT COUNT(*) FROM ai_calls") == [(0,)]  # the batch is one transaction
    assert len(env.ANALYTICS.points) == 1


def test_a_data_point_has_one_index_and_the_call_measures():
    record = ModelCallRecord(Caller(key_id="k1", tier="pro"), "m", "chat", "ok", Usage(3, 4), 12.345, 6.789,
                        backend="INFERENCE_2", failovers=1, provider="external", cost_usd=0.0002, split="canary", arm="B")

    assert call_point(record) == {"indexes": ["k1"], "blobs": ["m", "chat", "ok", "pro", "INFERENCE_2", "external", "canary", "B"],
                                  "doubles": [12.35, 6.79, 3, 4, 1, 0.0002, 0]}


def generation(**extra):
    fields = {"request_id": "r", "caller": Caller(key_id="k"), "kind": "chat", "model": "m",
              "messages": [ChatMessage(role="user", content="hi")], "max_tokens": 10, "stream_id": "s", **extra}
    return GenerationRequest(**fields)


def test_only_temperature_zero_is_cached_and_each_caller_has_its_own_answers():
    def key(**extra):
        req = generation(**extra)
        return cache.cache_key(req, settings_of(inference_env()).generation_cache_scopes.scope_of(req.caller))

    assert key() is None
    assert key(temperature=0.7) is None
    first = key(temperature=0)
    assert first == key(temperature=0, request_id="other")
    assert first != key(temperature=0, max_tokens=11)
    # Other sampling options or stop sequences ask for another answer.
    assert first != key(temperature=0, sampling={"seed": 2})
    assert first != key(temperature=0, sampling={"stop": ["."]})
    # Another caller sending the same request never gets this caller's answer (nor learns what it asked).
    assert first != key(temperature=0, caller=Caller(key_id="z"))
    assert first != key(temperature=0, caller=Caller(key_id="jwt:k"))


def test_replay_pieces_rebuild_the_text():
    text = "Hello  there,\nworld "
    assert "".join(cache.replay_pieces(text)) == text
    assert cache.replay_pieces(text) == ["Hello", "  there,", "\nworld", " "]



def test_a_streamed_calls_latency_ends_with_its_answer_not_with_its_later_record(monkeypatch):
    env = inference_env()
    now = [100.0]
    monkeypatch.setattr(usage.time, "perf_counter", lambda: now[0])
    meter = usage.Meter(env, Caller(key_id="k1", tier="pro"), "chat", "r1", started=now[0])
    now[0] += 0.25  # the answer takes 250 ms
    meter.ended()
    now[0] += 5.0  # and its record is written later

    asyncio.run(meter.done("@cf/meta/llama-3.1-8b-instruct-fast", "ok"))

    assert env.DB.rows("SELECT latency_ms, ttft_ms FROM ai_calls") == [(250.0, 250.0)]
