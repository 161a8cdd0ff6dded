import asyncio
import json

import pytest

from inference import events as ingestion
from inference.store.d1 import MAX_EVENTS_JSON_BYTES, Database, json_chunks
from shared.events import MAX_PROPERTIES_BYTES, checked_batch, from_ndjson, group_counts, to_ndjson, valid_events, validate_batch
from tests.fakes import D1

NOW = 1_800_000_000_000


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
    ({"type": "view\n"}, "type"),
    ("not an object", "event"),
])
def test_each_kind_of_bad_event_names_its_field(event, field):
    accepted, rejected = validate_batch([event], NOW)

    assert accepted == []
    assert rejected[0].field == field


def test_a_bad_type_is_told_the_rule_not_the_pattern():
    _, rejected = validate_batch([{"type": "9lives"}], NOW)

    assert rejected[0].message == "must start with a letter and hold at most 64 letters, digits or _ . : -"


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


def test_the_api_archives_lines_that_read_back_as_the_events():
    raw = [{"type": "view", "properties": {"a": [1, "é", None], "n": float("nan")}}, {"type": "click", "sessionId": "s"}]
    as_dicts, ndjson, _ = checked_batch(raw, NOW)
    as_models, _ = validate_batch(raw, NOW)

    assert from_ndjson(ndjson) == from_ndjson(to_ndjson(as_models))
    assert '"n":null' in ndjson  # NaN (which json.loads accepts) is stored as JSON can hold it
    assert group_counts(as_dicts) == group_counts(as_models) == [("view", "", 1), ("click", "", 1)]


def test_properties_are_held_to_their_size_as_stored_however_long_the_event():
    at_limit = {"blob": "x" * (MAX_PROPERTIES_BYTES - len('{"blob":""}'))}
    long_but_small = {"type": "x", "name": "n" * 128, "sessionId": "s" * 128, "userId": "u" * 128, "properties": at_limit}

    accepted, _, rejected = checked_batch([long_but_small, {"type": "x", "properties": {**at_limit, "one": 1}}], NOW)

    assert [e["name"] for e in accepted] == ["n" * 128]
    assert [(r.index, r.field, r.message) for r in rejected] == [(1, "properties", "must serialize to at most 8192 bytes")]


def index(d1, events, batch_id="b1"):
    return asyncio.run(Database(d1).index_batch("k1", batch_id, "events/x.ndjson", NOW, to_ndjson(events)))


def test_indexing_is_idempotent_and_counts_a_batch_once():
    d1 = D1()
    accepted, _ = validate_batch([{"id": "a", "type": "view"}, {"id": "b", "type": "click", "properties": {"x": 1}}], NOW)

    first, again = index(d1, accepted), index(d1, accepted)

    assert (first, again) == (2, 0)
    assert d1.rows("SELECT events FROM usage_daily WHERE key_id = 'k1'") == [(2,)]
    assert d1.rows("SELECT COUNT(*), MIN(indexed_at) IS NOT NULL FROM batches") == [(1, 1)]
    assert d1.rows("SELECT version FROM analytics_versions WHERE key_id = 'k1'") == [(2,)]
    assert json.loads(d1.rows("SELECT props_json FROM events WHERE id = 'b'")[0][0]) == {"x": 1}


def test_a_batch_that_fails_half_way_leaves_nothing_behind():
    d1 = D1()
    accepted, _ = validate_batch([{"type": "view"} for _ in range(25)], NOW)
    d1.failing = "INSERT INTO batches"

    with pytest.raises(RuntimeError):
        index(d1, accepted)

    assert d1.rows("SELECT COUNT(*) FROM events") == [(0,)]
    assert d1.rows("SELECT COUNT(*) FROM usage_daily") == [(0,)]


def test_data_points_stay_within_the_analytics_engine_write_limit():
    accepted, _ = validate_batch([{"type": f"t{i}", "component": "c"} for i in range(40)] + [{"type": "t0", "component": "c"}], NOW)

    points = ingestion.data_points([("k1", group_counts(accepted))])

    assert len(points) == ingestion.AE_POINTS_PER_INVOCATION
    assert sum(p["doubles"][0] for p in points) == 41
    assert points[0]["blobs"] == ["event", "t0", "c"] and points[0]["doubles"] == [2]
    assert points[-1]["blobs"] == ["event", "(other)", ""]


def test_batches_indexed_together_share_their_points_per_key():
    batches = [("k1", [("view", "A", 3), ("click", "A", 1)]), ("k2", [("view", "", 5)]), ("k1", [("view", "A", 2)])]

    points = ingestion.data_points(batches)

    assert [(p["indexes"][0], p["blobs"][1:], p["doubles"][0]) for p in points] == [
        ("k1", ["view", "A"], 5), ("k1", ["click", "A"], 1), ("k2", ["view", ""], 5)]
    many_keys = ingestion.data_points([(f"k{n}", [(f"t{i}", "", 1) for i in range(30)]) for n in range(4)])
    assert len(many_keys) == ingestion.AE_POINTS_PER_INVOCATION  # 4 keys x 5 points, each key's rarest in its "(other)"


def test_a_batch_goes_in_as_one_statement_per_chunk_of_json_and_every_field_lands():
    d1 = D1()
    raw = [{"type": "view", "name": "n", "component": "C", "sessionId": "s", "userId": "u", "properties": {"é": [1, None]}}]
    accepted, _ = validate_batch(raw + [{"type": "click"} for _ in range(999)], NOW)
    bound = []
    prepare = d1.prepare
    d1.prepare = lambda sql: bound.append(prepare(sql)) or bound[-1]

    assert index(d1, accepted) == 1000
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
    accepted, _ = validate_batch([{"type": "view", "properties": {"blob": "x" * 4000}} for _ in range(600)], NOW)

    chunks = json_chunks(to_ndjson(accepted))

    assert len(chunks) == 3 and all(len(chunk) <= MAX_EVENTS_JSON_BYTES for chunk in chunks)
    assert sum(len(json.loads(chunk)) for chunk in chunks) == 600


@pytest.mark.parametrize("properties", [
    {"items": [{"a": 1}, {"b": 2}]},  # a list of objects: "},{" inside the event's own JSON
    {"note": "},{"},  # the same inside a string
    {"plain": 1},
])
def test_each_event_is_one_line_whatever_its_properties_hold(properties):
    raw = [{"type": "a", "id": "1"}, {"type": "b", "id": "2", "properties": properties}, {"type": "c", "id": "3"}]

    accepted, ndjson, _ = checked_batch(raw, NOW)

    assert [json.loads(line) for line in ndjson.splitlines()] == accepted
    assert [e.properties for e in from_ndjson(ndjson)] == [None, properties, None]


def test_rejections_are_listed_in_the_order_of_the_batch():
    raw = [{"type": "x", "properties": {"blob": "x" * 9000}}, {"type": "9bad"}, {"type": "ok"}, {"type": "x", "timestamp": 0}]

    accepted, _, rejected = checked_batch(raw, NOW)

    assert [e["type"] for e in accepted] == ["ok"]
    assert [(r.index, r.field) for r in rejected] == [(0, "properties"), (1, "type"), (3, "timestamp")]

@pytest.mark.parametrize("body", [
    b'[{"type": "view", "timestamp": "2027-01-15T08:00:00Z"}, {"type": "click", "sessionId": "s", "properties": {"n": NaN}}]',
    b'{"events": [{"type": "view", "id": "a"}, {"type": "view"}], "sdk": "x"}',
])
def test_a_body_of_valid_events_is_checked_from_its_json_as_it_would_be_from_python(body):
    from_text = checked_batch(valid_events(body), NOW, validated=True)
    data = json.loads(body)
    from_python = checked_batch(data if isinstance(data, list) else data["events"], NOW)

    assert (from_text.ndjson, from_text.rejected) == (from_python.ndjson, from_python.rejected)  # the same ids and lines
    assert len(from_text.events) == 2


@pytest.mark.parametrize("body", [
    b'[{"type": "view"}, {"type": "9bad"}]',  # one invalid event: read event by event instead
    b'[{"type": "view", "name": "x\\ud800"}]',  # a lone surrogate: json.loads reads it, the reader names it
    b'{"events": "none"}',
    b"not json",
])
def test_a_body_with_anything_wrong_is_left_to_the_event_by_event_reading(body):
    assert valid_events(body) is None
