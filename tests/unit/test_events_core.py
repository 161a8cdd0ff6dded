import json
import sqlite3
from pathlib import Path

import pytest

from inference import events as ingestion
from shared.events import from_ndjson, to_ndjson, validate_batch

NOW = 1_800_000_000_000
MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))


def test_valid_events_pass_even_beside_invalid_ones():
    accepted, rejected = validate_batch([{"type": "view"}, {"type": ""}, {"type": "click", "timestamp": NOW - 1000}], NOW)

    assert [(e.type, e.ts) for e in accepted] == [("view", NOW), ("click", NOW - 1000)]
    assert [(r.index, r.field) for r in rejected] == [(1, "type")]


@pytest.mark.parametrize(("event", "field"), [
    ({"type": "x", "timestamp": NOW + 3_600_000}, "timestamp"),
    ({"type": "x", "timestamp": "2020-01-01T00:00:00Z"}, "timestamp"),
    ({"type": "x", "properties": {"blob": "x" * 9000}}, "properties"),
    ({"type": "x", "properties": [1]}, "properties"),
    ({"type": "x", "sessionId": "s" * 200}, "sessionId"),
    ({"type": "has space"}, "type"),
    ("not an object", "event"),
])
def test_each_kind_of_bad_event_names_its_field(event, field):
    accepted, rejected = validate_batch([event], NOW)

    assert accepted == []
    assert rejected[0].field == field


def test_generated_ids_repeat_for_a_retried_batch_and_differ_across_batches():
    batch = [{"type": "view"}, {"type": "view"}]
    first, _ = validate_batch(batch, NOW)
    retried, _ = validate_batch(batch, NOW + 5000)
    other, _ = validate_batch([{"type": "view"}], NOW)

    assert [e.id for e in first] == [e.id for e in retried]
    assert first[0].id != first[1].id
    assert other[0].id not in {e.id for e in first}


def test_client_ids_are_kept():
    accepted, _ = validate_batch([{"id": "abc", "type": "view"}], NOW)
    assert accepted[0].id == "abc"


def test_ndjson_round_trips():
    accepted, _ = validate_batch([{"type": "view", "properties": {"a": [1, "é"]}}, {"type": "click"}], NOW)
    text = to_ndjson(accepted)

    assert text.count("\n") == 2
    assert from_ndjson(text) == accepted


class Statement:
    def __init__(self, sql):
        self.sql, self.params = sql, []

    def bind(self, *params):
        self.params = list(params)
        return self


class Database:
    def prepare(self, sql):
        return Statement(sql)


def run(conn, statements):
    return [conn.execute(s.sql, s.params).rowcount for s in statements]


def test_indexing_is_idempotent_and_counts_a_batch_once():
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    accepted, _ = validate_batch([{"id": "a", "type": "view"}, {"id": "b", "type": "click", "properties": {"x": 1}}], NOW)
    statements = lambda: ingestion.index_statements(Database(), "k1", "b1", "events/x.ndjson", NOW, accepted)  # noqa: E731

    first = run(conn, statements())
    again = run(conn, statements())

    assert first[0] == 2 and again[0] == 0  # rows inserted by the (one) insert statement
    assert conn.execute("SELECT events FROM usage_daily WHERE key_id = 'k1'").fetchall() == [(2,)]
    assert conn.execute("SELECT COUNT(*), MIN(indexed_at) IS NOT NULL FROM batches").fetchone() == (1, 1)
    assert conn.execute("SELECT version FROM analytics_versions WHERE key_id = 'k1'").fetchone() == (2,)
    assert json.loads(conn.execute("SELECT props_json FROM events WHERE id = 'b'").fetchone()[0]) == {"x": 1}


def test_data_points_stay_within_the_analytics_engine_write_limit():
    accepted, _ = validate_batch([{"type": f"t{i}", "component": "c"} for i in range(40)] + [{"type": "t0", "component": "c"}], NOW)

    points = ingestion._data_points("k1", accepted)

    assert len(points) == ingestion.AE_POINTS_PER_BATCH
    assert sum(p["doubles"][0] for p in points) == 41
    assert points[0]["blobs"] == ["event", "t0", "c"] and points[0]["doubles"] == [2]


def test_a_large_batch_is_inserted_ten_events_a_statement_within_d1s_parameter_limit():
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    accepted, _ = validate_batch([{"type": "view"} for _ in range(25)], NOW)

    inserts = ingestion.insert_statements(Database(), "k1", "b1", accepted)

    assert [len(s.params) for s in inserts] == [100, 100, 50]
    assert sum(run(conn, inserts)) == 25
