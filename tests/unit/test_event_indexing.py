"""Indexing a batch into D1 (inference/events/indexing.py and store/d1.py): idempotent, all or
nothing, one statement per chunk of JSON; and the Analytics Engine points for batches indexed
together, within the per-invocation write limit."""

import asyncio
import json

import pytest

from inference.events import indexing
from inference.store.d1 import MAX_EVENTS_JSON_BYTES, Database, json_chunks
from shared.events import checked_events, group_counts
from tests.fakes import D1

NOW = 1_800_000_000_000


def ndjson_of(raw) -> str:
    return checked_events(raw, NOW, max_events=1000).ndjson


def index(d1, ndjson, batch_id="b1"):
    return asyncio.run(Database(d1).index_batch("k1", batch_id, "events/x.ndjson", NOW, ndjson))


def test_indexing_is_idempotent_and_counts_a_batch_once():
    d1 = D1()
    ndjson = ndjson_of([{"id": "a", "type": "view"}, {"id": "b", "type": "click", "properties": {"x": 1}}])

    first, again = index(d1, ndjson), index(d1, ndjson)

    assert (first, again) == (2, 0)
    assert d1.rows("SELECT events FROM usage_daily WHERE key_id = 'k1'") == [(2,)]
    assert d1.rows("SELECT COUNT(*), MIN(indexed_at) IS NOT NULL FROM batches") == [(1, 1)]
    assert d1.rows("SELECT version FROM analytics_versions WHERE key_id = 'k1'") == [(2,)]
    assert json.loads(d1.rows("SELECT props_json FROM events WHERE id = 'b'")[0][0]) == {"x": 1}


def test_a_batch_that_fails_half_way_leaves_nothing_behind():
    d1 = D1()
    ndjson = ndjson_of([{"type": "view"} for _ in range(25)])
    d1.failing = "INSERT INTO batches"

    with pytest.raises(RuntimeError):
        index(d1, ndjson)

    assert d1.rows("SELECT COUNT(*) FROM events") == [(0,)]
    assert d1.rows("SELECT COUNT(*) FROM usage_daily") == [(0,)]


def test_data_points_stay_within_the_analytics_engine_write_limit():
    accepted = checked_events([{"type": f"t{i}", "component": "c"} for i in range(40)] + [{"type": "t0", "component": "c"}],
                              NOW, max_events=1000).events

    points = indexing.data_points([("k1", group_counts(accepted))])

    assert len(points) == indexing.AE_POINTS_PER_INVOCATION
    assert sum(p["doubles"][0] for p in points) == 41
    assert points[0]["blobs"] == ["event", "t0", "c"] and points[0]["doubles"] == [2]
    assert points[-1]["blobs"] == ["event", "(other)", ""]


def test_batches_indexed_together_share_their_points_per_key():
    batches = [("k1", [("view", "A", 3), ("click", "A", 1)]), ("k2", [("view", "", 5)]), ("k1", [("view", "A", 2)])]

    points = indexing.data_points(batches)

    assert [(p["indexes"][0], p["blobs"][1:], p["doubles"][0]) for p in points] == [
        ("k1", ["view", "A"], 5), ("k1", ["click", "A"], 1), ("k2", ["view", ""], 5)]
    many_keys = indexing.data_points([(f"k{n}", [(f"t{i}", "", 1) for i in range(30)]) for n in range(4)])
    assert len(many_keys) == indexing.AE_POINTS_PER_INVOCATION  # 4 keys x 5 points, each key's rarest in its "(other)"


def test_a_batch_goes_in_as_one_statement_per_chunk_of_json_and_every_field_lands():
    d1 = D1()
    raw = [{"type": "view", "name": "n", "component": "C", "sessionId": "s", "userId": "u", "properties": {"é": [1, None]}}]
    ndjson = ndjson_of(raw + [{"type": "click"} for _ in range(999)])
    bound = []
    prepare = d1.prepare
    d1.prepare = lambda sql: bound.append(prepare(sql)) or bound[-1]

    assert index(d1, ndjson) == 1000
    assert sum("INSERT OR IGNORE INTO events" in s.sql for s in bound) == 1
    first = d1.rows("SELECT id, type, name, component, session_id, user_id, ts, props_json, batch_id FROM events "
                    "WHERE type = 'view'")[0]
    assert first[1:7] == ("view", "n", "C", "s", "u", NOW) and json.loads(first[7]) == {"é": [1, None]} and first[8] == "b1"
    assert d1.rows("SELECT COUNT(*) FROM events WHERE props_json IS NULL") == [(999,)]


@pytest.mark.parametrize("ndjson", ['{"a":1}\n{"b":2}\n', '{"a":1}\n\n{"b":2}', '{"a":1}\n \n{"b":2}\n', "\n{\"a\":1}\n", "", "\n"])
def test_json_chunks_hold_every_line_once_blank_ones_skipped(ndjson):
    assert [json.loads(chunk) for chunk in json_chunks(ndjson)] == ([[json.loads(line) for line in ndjson.split()]]
                                                                     if ndjson.strip() else [])


def test_a_large_batch_is_split_into_json_chunks_under_the_value_limit():
    chunks = json_chunks(ndjson_of([{"type": "view", "properties": {"blob": "x" * 4000}} for _ in range(600)]))

    assert len(chunks) == 3 and all(len(chunk) <= MAX_EVENTS_JSON_BYTES for chunk in chunks)
    assert sum(len(json.loads(chunk)) for chunk in chunks) == 600
