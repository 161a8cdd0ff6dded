"""POST /events: per-event validation, idempotent retries, durability before the answer, the
replay of batches D1 could not index, and analytics that match what was sent."""

import json
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from scripts.localhost import FRESH_CONNECTIONS
from tests.e2e.conftest import TEST_FREE_EVENTS_PER_DAY, HostControl, host_only, key_creator, landed, needs_faults

HOUR_MS = 3_600_000


class Caller:
    """A pro key of its own on one server: its metrics hold only what the test sent."""

    def __init__(self, client: httpx.Client, created: dict) -> None:
        self.client = client
        self.key = created["key"]
        self.key_id = created["id"]  # the index of its Analytics Engine points

    def post(self, path, **kwargs):
        return self.client.post(path, headers={"x-api-key": self.key}, **kwargs)

    def landed(self, response):
        return landed(self.client, response, headers={"x-api-key": self.key})

    def send(self, events):
        """Posts a batch and waits until it is indexed: its status."""
        return self.landed(self.post("/events", json=events))

    def graphql(self, query, **variables):
        response = self.post("/graphql", json={"query": query, "variables": variables})
        return response.json()

    def metrics(self, metric, start, end, bucket="HOUR", **filter_):
        body = self.graphql(
            "query($m: Metric!, $r: TimeRange!, $b: Bucket, $f: MetricFilter) { eventMetrics(metric: $m, range: $r, bucket: $b, filter: $f) "
            "{ points { bucket key value } totals { key value } cached } }",
            m=metric, r={"from": iso(start), "to": iso(end)}, b=bucket, f=filter_ or None)
        assert "errors" not in body, body
        return body["data"]["eventMetrics"]

    def events_counted(self) -> int:
        """The key's events of the day, as usage reports them."""
        return self.graphql("{ usage { events } }")["data"]["usage"]["events"]


@pytest.fixture
def caller(anonymous, new_key):
    return Caller(anonymous, new_key("pro"))


@pytest.fixture(scope="module")
def queueless_client(queueless_host):
    with httpx.Client(base_url=queueless_host.url, timeout=30, limits=FRESH_CONNECTIONS) as client:
        yield client


@pytest.fixture
def queueless_caller(queueless_client, admin_token):
    """A caller of the host without the event queue (conftest.py `queueless_host`)."""
    return Caller(queueless_client, key_creator(queueless_client, admin_token)("pro"))


@pytest.fixture
def queueless_control(queueless_client):
    control = HostControl(queueless_client)
    control.reset()
    yield control
    control.reset()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


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
    assert caller.events_counted() == 3  # counted once


def test_a_batch_is_durable_while_d1_fails_and_counted_once_after_the_replay(queueless_caller, queueless_control):
    """Without a queue, a batch is stored in R2 before the answer, and indexed in the request."""
    caller, control = queueless_caller, queueless_control
    now = int(time.time() * 1000)
    # Only the indexing transaction fails: admission, which also batches, goes through.
    control.fault("inference-service.DB.batch", "D1 is unavailable", match="INTO events")

    response = caller.post("/events", json=[{"id": "d1", "type": "purchase"}, {"id": "d2", "type": "purchase"}])

    assert response.status_code == 202
    body = response.json()
    assert (body["indexed"], body["accepted"], body["duplicates"]) == (False, 2, None)
    assert any(body["batchId"] in key for key in control.r2_keys("events/"))
    assert control.r2_keys(f"unindexed/{body['batchId']}") == [f"unindexed/{body['batchId']}"]
    assert caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)["totals"] == []

    control.fire_cron()
    control.fire_cron()  # a second replay finds nothing to do

    assert control.r2_keys(f"unindexed/{body['batchId']}") == []
    totals = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)["totals"]
    assert totals == [{"key": "purchase", "value": 2.0}]
    resent = caller.post("/events", json=[{"id": "d1", "type": "purchase"}, {"id": "d2", "type": "purchase"}]).json()
    assert (resent["accepted"], resent["duplicates"]) == (0, 2)


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


@host_only  # the test host's free tier has a 5-event daily quota
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


@needs_faults
def test_a_varied_batch_with_free_text_stays_within_analytics_engines_25_writes(caller, control):
    control.client.delete("/__devhost/analytics")
    batch = [{"type": f"kind{i}", "component": f"C{i}"} for i in range(24)]
    batch += [{"type": "feedback", "component": f"F{i}", "properties": {"text": f"note {i}: I like it"}} for i in range(7)]
    assert caller.post("/events", json=batch).json()["accepted"] == 31

    deadline = time.monotonic() + 10
    while True:  # the labels come after the answer, in the same invocation
        points = control.client.get("/__devhost/analytics").json()["points"]
        labels = [p for p in points if p["blobs"][1] == "enrichment"]
        if len(labels) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    event_points = [p for p in points if p["blobs"][0] == "event"]
    assert len(event_points) == 20 and sum(p["doubles"][0] for p in event_points) == 31
    assert len(labels) == 5  # EVENTS_ENRICHMENT_MAX_PER_BATCH's default: 20 + 5 writes


def test_free_text_stored_while_d1_failed_is_labelled_by_the_replay(queueless_caller, queueless_control):
    caller, control = queueless_caller, queueless_control
    control.fault("inference-service.DB.batch", "D1 is unavailable", match="INTO events")
    body = caller.post("/events", json=[{"id": "late-fb", "type": "feedback", "properties": {"text": "Too slow today"}}]).json()
    assert body["indexed"] is False
    time.sleep(0.3)
    assert not any(call["model"] == "@cf/meta/llama-3.1-8b-instruct-fast" for call in control.calls())  # nothing to label yet

    control.fire_cron()  # the fault was for one transaction

    node = caller.graphql("{ events(first: 5) { edges { node { id enrichment } } } }")["data"]["events"]["edges"][0]["node"]
    assert node["id"] == "late-fb"
    assert node["enrichment"]["sentiment"]["sentiment"] in {"positive", "neutral", "negative"}


@needs_faults
def test_analytics_engine_gets_counted_points_for_events_and_one_per_model_call(caller, control):
    control.client.delete("/__devhost/analytics")
    caller.post("/events", json=[{"type": "view", "component": "A"}] * 3 + [{"type": "click", "component": "B"}])
    caller.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hi"}]}]})
    deadline = time.monotonic() + 10
    while True:  # the events' points come as the queue consumer indexes them, the call's once its stream has ended
        points = [p for p in control.client.get("/__devhost/analytics").json()["points"] if p["indexes"] == [caller.key_id]]
        counted = sum(p["doubles"][0] for p in points if p["blobs"][0] == "event")
        if (counted == 4 and any(p["blobs"][1] == "chat" for p in points)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    events = sorted((p["blobs"][1], p["blobs"][2], p["doubles"][0]) for p in points if p["blobs"][0] == "event")
    # An earlier test's enrichment call may land its point late; this test counts chat calls.
    calls = [p for p in points if p["blobs"][0] == "@cf/meta/llama-3.1-8b-instruct-fast" and p["blobs"][1] != "enrichment"]
    assert events == [("click", "B", 1), ("view", "A", 3)]
    assert [(c["blobs"][1], c["blobs"][2]) for c in calls] == [("chat", "ok")]
    assert calls[0]["doubles"][0] >= calls[0]["doubles"][1] > 0  # latency, then time to first token
    # Which backend served (no failover) and who ran the model, at what cost.
    assert calls[0]["blobs"][4:] == ["INFERENCE", "workers-ai"]
    assert calls[0]["doubles"][4] == 0 and calls[0]["doubles"][5] > 0
    assert all(len(p["indexes"]) == 1 for p in points)


def test_the_cron_trigger_runs_the_replay_handler(control):
    control.fire_cron()  # workerd calls scheduled(controller, env, ctx): a narrower signature fails


@needs_faults
def test_metrics_are_answered_from_d1_while_kv_fails(caller, control):
    now = int(time.time() * 1000)
    assert caller.send([{"type": "kv-down"}, {"type": "kv-down"}])["indexed"]
    control.fault("inference-service.CACHE.get", "KV unavailable", count=10)
    control.fault("inference-service.CACHE.put", "KV unavailable", count=10)

    answer = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)

    assert answer["totals"] == [{"key": "kv-down", "value": 2.0}]
    assert answer["cached"] is False


def test_events_that_could_not_be_stored_leave_no_marker_for_the_replay(queueless_caller, queueless_control):
    caller, control = queueless_caller, queueless_control
    markers_before = set(control.r2_keys("unindexed/"))
    control.fault("inference-service.ARCHIVE.put", "R2 is unavailable", match="events/")

    response = caller.post("/events", json=[{"id": "r2-down", "type": "purchase"}])

    assert response.status_code == 503
    assert set(control.r2_keys("unindexed/")) == markers_before  # no marker for events R2 does not hold
    control.fire_cron()
