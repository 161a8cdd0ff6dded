"""The one way a batch of events is checked (shared/events.py `checked_events`), from a request's
body or from events already read (GraphQL's trackEvents): valid events accepted beside invalid
ones, each rejection naming its field, ids that repeat for a retried batch, the batch refused as a
whole (4xx naming the field) when it holds no valid event, none at all or too many, and the
NDJSON form it is archived in."""

import json

import pytest

from shared.errors import ApiError
from shared.events import MAX_PROPERTIES_BYTES, checked_events, from_ndjson, group_counts, to_ndjson

NOW = 1_800_000_000_000
MAX_EVENTS = 1000


def checked(source, now_ms: int = NOW, max_events: int = MAX_EVENTS):
    return checked_events(source, now_ms, max_events=max_events)


def stored_events(raw):
    """The accepted events as Event models, as the inference service reads them back."""
    return from_ndjson(checked(raw).ndjson)


def refusal(source, max_events: int = MAX_EVENTS) -> ApiError:
    with pytest.raises(ApiError) as refused:
        checked(source, max_events=max_events)
    return refused.value


def test_valid_events_pass_even_beside_invalid_ones():
    batch = checked([{"type": "view"}, {"type": ""}, {"type": "click", "timestamp": NOW - 1000}])

    assert [(e["type"], e["ts"]) for e in batch.events] == [("view", NOW), ("click", NOW - 1000)]
    assert [(r.index, r.field) for r in batch.rejected] == [(1, "type")]


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
    error = refusal([event])  # no valid event: the batch is refused, each event's reason listed

    assert (error.status, error.details["field"]) == (400, "events")
    assert error.details["rejected"][0]["field"] == field


def test_a_bad_type_is_told_the_rule_not_the_pattern():
    error = refusal([{"type": "9lives"}])

    assert error.details["rejected"][0]["message"] == "must start with a letter and hold at most 64 letters, digits or _ . : -"
    assert error.message == "No valid events (type: must start with a letter and hold at most 64 letters, digits or _ . : -)"


def test_generated_ids_repeat_for_a_retried_batch_and_differ_across_batches():
    batch = [{"type": "view"}, {"type": "view"}]
    first = checked(batch).events
    retried = checked(batch, NOW + 5000).events
    other = checked([{"type": "view"}]).events

    assert [e["id"] for e in first] == [e["id"] for e in retried]
    assert first[0]["id"] != first[1]["id"]
    assert other[0]["id"] not in {e["id"] for e in first}


def test_client_ids_are_kept():
    assert checked([{"id": "abc", "type": "view"}]).events[0]["id"] == "abc"


def test_ndjson_round_trips():
    accepted = stored_events([{"type": "view", "properties": {"a": [1, "é"]}}, {"type": "click"}])
    text = to_ndjson(accepted)

    assert text.count("\n") == 2
    assert from_ndjson(text) == accepted


def test_the_api_archives_lines_that_read_back_as_the_events():
    raw = [{"type": "view", "properties": {"a": [1, "é", None], "n": float("nan")}}, {"type": "click", "sessionId": "s"}]
    as_dicts, ndjson, _ = checked(raw)
    as_models = from_ndjson(ndjson)

    assert from_ndjson(to_ndjson(as_models)) == as_models
    assert [(e.id, e.type, e.session_id) for e in as_models] == [(e["id"], e["type"], e.get("session_id")) for e in as_dicts]
    assert '"n":null' in ndjson  # NaN (which json.loads accepts) is stored as JSON can hold it
    assert group_counts(as_dicts) == group_counts(as_models) == [("view", "", 1), ("click", "", 1)]


def test_properties_are_held_to_their_size_as_stored_however_long_the_event():
    at_limit = {"blob": "x" * (MAX_PROPERTIES_BYTES - len('{"blob":""}'))}
    long_but_small = {"type": "x", "name": "n" * 128, "sessionId": "s" * 128, "userId": "u" * 128, "properties": at_limit}

    accepted, _, rejected = checked([long_but_small, {"type": "x", "properties": {**at_limit, "one": 1}}])

    assert [e["name"] for e in accepted] == ["n" * 128]
    assert [(r.index, r.field, r.message) for r in rejected] == [(1, "properties", "must serialize to at most 8192 bytes")]


@pytest.mark.parametrize("properties", [
    {"items": [{"a": 1}, {"b": 2}]},  # a list of objects: "},{" inside the event's own JSON
    {"note": "},{"},  # the same inside a string
    {"plain": 1},
])
def test_each_event_is_one_line_whatever_its_properties_hold(properties):
    raw = [{"type": "a", "id": "1"}, {"type": "b", "id": "2", "properties": properties}, {"type": "c", "id": "3"}]

    accepted, ndjson, _ = checked(raw)

    assert [json.loads(line) for line in ndjson.splitlines()] == accepted
    assert [e.properties for e in from_ndjson(ndjson)] == [None, properties, None]


def test_rejections_are_listed_in_the_order_of_the_batch():
    raw = [{"type": "x", "properties": {"blob": "x" * 9000}}, {"type": "9bad"}, {"type": "ok"}, {"type": "x", "timestamp": 0}]

    accepted, _, rejected = checked(raw)

    assert [e["type"] for e in accepted] == ["ok"]
    assert [(r.index, r.field) for r in rejected] == [(0, "properties"), (1, "type"), (3, "timestamp")]


@pytest.mark.parametrize("body", [
    b'[{"type": "view", "timestamp": "2027-01-15T08:00:00Z"}, {"type": "click", "sessionId": "s", "properties": {"n": NaN}}]',
    b'{"events": [{"type": "view", "id": "a"}, {"type": "view"}], "sdk": "x"}',
])
def test_a_body_is_checked_as_the_same_events_already_read_would_be(body):
    from_text = checked(body)
    data = json.loads(body)
    from_python = checked(data if isinstance(data, list) else data["events"])

    assert (from_text.ndjson, from_text.rejected) == (from_python.ndjson, from_python.rejected)  # the same ids and lines
    assert len(from_text.events) == 2


@pytest.mark.parametrize(("body", "accepted", "rejected"), [
    (b'[{"type": "view"}, {"type": "9bad"}]', ["view"], [(1, "type")]),  # one invalid event: checked event by event
    (b'{"events": [{"type": "view"}, {"type": "click", "unknown": 1}]}', ["view"], [(1, "unknown")]),
])
def test_a_body_with_an_invalid_event_keeps_its_valid_ones(body, accepted, rejected):
    batch = checked(body)

    assert [e["type"] for e in batch.events] == accepted
    assert [(r.index, r.field) for r in batch.rejected] == rejected


@pytest.mark.parametrize(("body", "status", "field"), [
    (b'[{"type": "view", "name": "x\\ud800"}]', 400, "0.name"),  # a lone surrogate: json.loads reads it, the reader names it
    (b'{"events": "none"}', 400, "events"),
    (b'{"event": []}', 400, "events"),
    (b'"just text"', 400, "body"),
    (b"not json", 400, "body"),
    (b"[]", 400, "events"),
    (b'{"events": []}', 400, "events"),
    (json.dumps([{"type": "view"}] * 3).encode(), 413, "events"),
])
def test_a_body_refused_as_a_whole_is_a_4xx_naming_the_field(body, status, field):
    error = refusal(body, max_events=2)

    assert (error.status, error.details["field"]) == (status, field)


def test_a_batch_over_its_limit_names_the_limit():
    error = refusal([{"type": "view"}] * 3, max_events=2)

    assert (error.status, error.details["limit"]) == (413, 2)
    assert error.message == "events: at most 2 a batch; this one has 3"
