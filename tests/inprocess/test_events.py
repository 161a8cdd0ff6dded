"""POST /events: per-event validation, idempotent retries, durability before the answer, the
replay of batches D1 could not index, and analytics that match what was sent."""

import json
import time
from collections import Counter

import httpx
import pytest

from tests.e2e.conftest import HOST_VARIABLES, TEST_FREE_EVENTS_PER_DAY, key_creator, landed
from tests.events_caller import Caller, iso
from tests.inprocess.conftest import INPROCESS_VARIABLES, Control
from tests.inprocess.host import ORIGIN, InProcessHost

HOUR_MS = 3_600_000


@pytest.fixture
def caller(anonymous, new_key):
    """A fresh pro key per test."""
    return Caller(anonymous, new_key("pro")["key"])


def hour_start(ms: int) -> int:
    return ms - ms % HOUR_MS


def test_a_mixed_batch_accepts_the_valid_events_and_names_what_is_wrong(caller):
    response = caller.post("/events", json={"events": [
        {"type": "view", "component": "Chat"},
        {"type": "9-starts-with-a-digit"},
        {"component": "NoType"},
        {"type": "click", "timestamp": "2001-01-01T00:00:00Z"},
        {"type": "click", "properties": {"text": "ok"}, "sessionId": "s1"},
        {"type": "view", "unknown": 1},
    ]})

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2  # every valid event, stored; duplicates known once indexed
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "type"), (2, "type"), (3, "timestamp"), (5, "unknown")]
    assert all(r["message"] for r in body["rejected"])
    status = caller.landed(response)
    assert (status["received"], status["accepted"], status["duplicates"]) == (2, 2, 0)


def test_a_batch_with_no_valid_event_is_a_400_listing_each(caller):
    response = caller.post("/events", json=[{"type": ""}, {}])

    assert response.status_code == 400
    assert [r["index"] for r in response.json()["error"]["rejected"]] == [0, 1]


def test_the_same_batch_twice_counts_nothing_twice(caller):
    now = int(time.time() * 1000)
    batch = [{"type": "view", "component": "Chat"}, {"type": "view", "component": "Chat"}, {"id": "e-3", "type": "click"}]

    first = caller.post("/events", json=batch)
    first_status = caller.landed(first)
    second = caller.post("/events", json=batch)  # a retry: the same batch, the same ids
    second_status = caller.landed(second)

    assert first.json()["batchId"] == second.json()["batchId"]
    assert (first_status["accepted"], first_status["duplicates"]) == (3, 0)
    assert second_status == first_status  # indexing it again changed nothing
    totals = {t["key"]: t["value"] for t in caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)["totals"]}
    assert totals == {"view": 2, "click": 1}
    assert caller.graphql("{ usage { events } }")["data"]["usage"]["events"] == 3  # counted once


def test_metrics_match_a_reference_computed_from_the_events_sent(caller):
    now = int(time.time() * 1000)
    base = hour_start(now) - 5 * HOUR_MS
    sent = []
    for hour in range(5):
        for i in range(hour + 2):
            sent.append({
                "type": ["view", "click", "error"][(hour + i) % 3],
                "component": ["Chat", "Form", None][i % 3],
                "timestamp": base + hour * HOUR_MS + i * 60_000 + 17,
            })
    assert caller.send(sent)["accepted"] == len(sent)
    start, end = base, base + 5 * HOUR_MS

    by_type = Counter((hour_start(e["timestamp"]), e["type"]) for e in sent)
    by_component = Counter((hour_start(e["timestamp"]), e["component"] or "(none)") for e in sent)
    per_hour = Counter(hour_start(e["timestamp"]) for e in sent)
    errors = Counter(hour_start(e["timestamp"]) for e in sent if e["type"] == "error")

    def points(metric):
        return {(p["bucket"], p["key"]): p["value"] for p in caller.metrics(metric, start, end)["points"]}

    assert points("EVENTS_BY_TYPE") == {(iso(h), t): n for (h, t), n in by_type.items()}
    assert points("EVENTS_BY_COMPONENT") == {(iso(h), c): n for (h, c), n in by_component.items()}
    assert points("ERROR_RATE") == pytest.approx({(iso(h), None): errors[h] / per_hour[h] for h in per_hour})
    only_chat_errors = caller.metrics("EVENTS_BY_TYPE", start, end, "DAY", type="error", component="Chat")
    assert sum(t["value"] for t in only_chat_errors["totals"]) == sum(1 for e in sent if e["type"] == "error" and e["component"] == "Chat")


def test_tokens_by_model_match_the_usage_the_streams_reported(caller, anonymous):
    now = int(time.time() * 1000)
    reported = 0
    for text in ("one", "two words", "three little words"):
        stream = caller.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": text}]}]}).text
        finish = next(json.loads(e[len("data: "):]) for e in stream.split("\n\n") if '"type":"finish"' in e)
        reported += finish["messageMetadata"]["usage"]["total_tokens"]
    deadline = time.monotonic() + 10
    while True:
        totals = caller.metrics("TOKENS_BY_MODEL", now - HOUR_MS, now + HOUR_MS)["totals"]
        # Usage is written as each stream ends, so wait for all three, not the first.
        if sum(t["value"] for t in totals) >= reported or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert totals == [{"key": "@cf/meta/llama-3.1-8b-instruct-fast", "value": reported}]
    latency = caller.metrics("AI_LATENCY", now - HOUR_MS, now + HOUR_MS)["totals"]
    assert [p["key"] for p in latency] == ["p50", "p95"]
    assert 0 < latency[0]["value"] <= latency[1]["value"]


def test_a_cached_answer_is_invalidated_when_a_batch_lands(caller):
    now = int(time.time() * 1000)
    caller.send([{"type": "view"}])

    first = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)
    second = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)
    caller.send([{"type": "view"}, {"type": "view"}])
    third = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)

    assert (first["cached"], second["cached"], third["cached"]) == (False, True, False)
    assert first["totals"] == second["totals"] == [{"key": "view", "value": 1.0}]
    assert third["totals"] == [{"key": "view", "value": 3.0}]


def test_events_page_newest_first_with_cursors(caller):
    now = int(time.time() * 1000)
    caller.send([{"id": f"p{i}", "type": "view", "timestamp": now - i * 1000} for i in range(5)])
    query = "query($after: String) { events(first: 2, after: $after) { edges { node { id timestamp } } pageInfo { hasNextPage endCursor } } }"

    seen, after = [], None
    while True:
        page = caller.graphql(query, after=after)["data"]["events"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [f"p{i}" for i in range(5)]


def test_track_events_mutation_shares_the_validation(caller):
    body = caller.graphql('mutation { trackEvents(events: [{type: "view"}, {type: "bad type"}]) { accepted rejected { index field } } }')

    assert body["data"]["trackEvents"] == {"accepted": 1, "rejected": [{"index": 1, "field": "type"}]}


def test_a_free_key_is_held_to_its_daily_event_quota_and_batch_size(anonymous, new_key):
    key = new_key("free")["key"]
    post = lambda events: anonymous.post("/events", headers={"x-api-key": key}, json=events)  # noqa: E731

    assert post([{"type": "view"}] * 101).status_code == 413
    # The quota counts indexed events: a client may go over it by what is still in the queue.
    landed(anonymous, post([{"type": "view", "id": f"q{i}"} for i in range(TEST_FREE_EVENTS_PER_DAY)]), headers={"x-api-key": key})
    refused = post([{"type": "view", "id": "one-more"}])
    assert refused.status_code == 429
    assert refused.json()["error"]["reason"] == "event_quota"
    assert int(refused.headers["retry-after"]) <= 86_400


def test_the_admin_reads_a_callers_metrics_and_events_by_key_id_and_no_one_else_can(anonymous, new_key, admin_token):
    owner = new_key("pro")
    now = int(time.time() * 1000)
    landed(anonymous, anonymous.post("/events", headers={"x-api-key": owner["key"]}, json=[{"id": "a1", "type": "view"}, {"id": "a2", "type": "click"}]),
           headers={"x-api-key": owner["key"]})
    query = {
        "query": "query($k: ID, $r: TimeRange!) { eventMetrics(metric: EVENTS_BY_TYPE, range: $r, keyId: $k) { totals { key value } } "
                 "events(keyId: $k) { edges { node { id } } } }",
        "variables": {"k": owner["id"], "r": {"from": iso(now - HOUR_MS), "to": iso(now + HOUR_MS)}},
    }

    data = anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"}, json=query).json()["data"]
    assert sorted((t["key"], t["value"]) for t in data["eventMetrics"]["totals"]) == [("click", 1), ("view", 1)]
    assert {e["node"]["id"] for e in data["events"]["edges"]} == {"a1", "a2"}

    another_key = new_key("pro")["key"]
    refused = anonymous.post("/graphql", headers={"x-api-key": another_key}, json=query).json()
    assert refused["data"] is None
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"forbidden"}


def test_ranges_are_bounded(caller):
    now = int(time.time() * 1000)
    body = caller.graphql('query($r: TimeRange!) { eventMetrics(metric: EVENTS_BY_TYPE, range: $r, bucket: MINUTE) { cached } }',
                          r={"from": iso(now - 40 * 86_400_000), "to": iso(now)})

    assert body["data"] is None
    assert "buckets" in body["errors"][0]["message"]


def test_events_with_free_text_get_a_sentiment_label_after_the_answer(caller, control):
    response = caller.post("/events", json=[
        {"id": "fb1", "type": "feedback", "properties": {"text": "I love this chat!"}},
        {"id": "v1", "type": "view"},
    ])
    assert response.status_code == 202

    query = "{ events(first: 10) { edges { node { id enrichment } } } }"
    deadline = time.monotonic() + 10
    while True:
        nodes = {e["node"]["id"]: e["node"]["enrichment"] for e in caller.graphql(query)["data"]["events"]["edges"]}
        if nodes.get("fb1") or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert nodes["fb1"]["sentiment"]["sentiment"] in {"positive", "neutral", "negative"}
    assert nodes["v1"] is None
    assert sum(1 for call in control.calls() if call["model"] == "@cf/meta/llama-3.1-8b-instruct-fast") == 1


@pytest.fixture(scope="module")
def queueless():
    """A host whose workers have no EVENT_QUEUE binding, as deployed without Queues: a batch is
    stored and indexed in the request (and left to the replay if D1 fails)."""
    host = InProcessHost(INPROCESS_VARIABLES, event_queue=False)
    with httpx.Client(base_url=ORIGIN, transport=host.transport()) as anonymous:
        yield host, anonymous
    host.close()


@pytest.fixture
def queueless_caller(queueless):
    host, anonymous = queueless
    return Caller(anonymous, key_creator(anonymous, HOST_VARIABLES["ADMIN_TOKEN"])("pro")["key"])


@pytest.fixture
def queueless_control(queueless):
    host, _ = queueless
    host.ai.reset()
    yield Control(host)
    host.ai.reset()
    host.inference_env.DB.failing = None
    host.inference_env.ARCHIVE.failing_puts_under = None


def test_a_batch_is_durable_while_d1_fails_and_counted_once_after_the_replay(queueless_caller, queueless_control):
    """Without a queue, a batch is stored in R2 before the answer, and indexed in the request."""
    caller, control = queueless_caller, queueless_control
    database = control.host.inference_env.DB
    now = int(control.host.clock.time() * 1000)
    # Only the indexing transaction fails: admission, which also batches, goes through.
    database.failing = "INTO events"

    response = caller.post("/events", json=[{"id": "d1", "type": "purchase"}, {"id": "d2", "type": "purchase"}])

    assert response.status_code == 202
    body = response.json()
    assert (body["indexed"], body["accepted"], body["duplicates"]) == (False, 2, None)
    assert any(body["batchId"] in key for key in control.r2_keys("events/"))
    assert control.r2_keys(f"unindexed/{body['batchId']}") == [f"unindexed/{body['batchId']}"]
    assert caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)["totals"] == []

    database.failing = None  # D1 is back
    control.fire_cron()
    control.fire_cron()  # a second replay finds nothing to do

    assert control.r2_keys(f"unindexed/{body['batchId']}") == []
    totals = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)["totals"]
    assert totals == [{"key": "purchase", "value": 2.0}]
    resent = caller.post("/events", json=[{"id": "d1", "type": "purchase"}, {"id": "d2", "type": "purchase"}]).json()
    assert (resent["accepted"], resent["duplicates"]) == (0, 2)


def test_free_text_stored_while_d1_failed_is_labelled_by_the_replay(queueless_caller, queueless_control):
    caller, control = queueless_caller, queueless_control
    control.host.inference_env.DB.failing = "INTO events"
    body = caller.post("/events", json=[{"id": "late-fb", "type": "feedback", "properties": {"text": "Too slow today"}}]).json()
    assert body["indexed"] is False
    # What the request left to waitUntil has run: nothing labelled it.
    assert not any(call["model"] == "@cf/meta/llama-3.1-8b-instruct-fast" for call in control.calls())  # nothing to label yet

    control.host.inference_env.DB.failing = None  # D1 is back
    control.fire_cron()

    node = caller.graphql("{ events(first: 5) { edges { node { id enrichment } } } }")["data"]["events"]["edges"][0]["node"]
    assert node["id"] == "late-fb"
    assert node["enrichment"]["sentiment"]["sentiment"] in {"positive", "neutral", "negative"}


def test_events_that_could_not_be_stored_leave_no_marker_for_the_replay(queueless_caller, queueless_control):
    caller, control = queueless_caller, queueless_control
    markers_before = set(control.r2_keys("unindexed/"))
    control.host.inference_env.ARCHIVE.failing_puts_under = "events/"

    response = caller.post("/events", json=[{"id": "r2-down", "type": "purchase"}])

    assert response.status_code == 503
    assert set(control.r2_keys("unindexed/")) == markers_before  # no marker for events R2 does not hold
    control.fire_cron()
