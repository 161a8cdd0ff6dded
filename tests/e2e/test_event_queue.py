"""Event batches through the queue (EVENT_QUEUE), on the local runtime: answered once queued (the
events in the message), archived in R2 and indexed by the consumer shortly after, several at a time; a batch the consumer keeps
failing on goes to the dead-letter queue, whose consumer leaves it visible to the admin and to
the replay, which indexes it once it can. Nothing accepted is lost."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.batches import RESEND_AFTER_SECONDS
from tests.e2e.conftest import TEST_RETENTION_DAYS, host_only, landed

pytestmark = host_only
QUEUE = "inference-ui-events"


def test_a_batch_is_answered_once_stored_and_queued_then_indexed(anonymous, new_key, control):
    headers = {"x-api-key": new_key("pro")["key"]}

    response = anonymous.post("/events", headers=headers, json=[{"id": "q1", "type": "view"}, {"id": "q2", "type": "click"}])

    body = response.json()
    assert response.status_code == 202
    assert (body["queued"], body["indexed"], body["accepted"], body["duplicates"]) == (True, False, 2, None)
    assert landed(anonymous, response, headers=headers) | {"indexedAt": None} == {
        "batchId": body["batchId"], "indexed": True, "received": 2, "accepted": 2, "duplicates": 0, "indexedAt": None}
    # It came in its queue message (durable once sent); the consumer archived it in R2 before indexing it.
    archived = [key for key in control.r2_keys("events/") if body["batchId"] in key]
    assert len(archived) == 1
    assert [json.loads(line)["id"] for line in control.r2_text(archived[0]).splitlines()] == ["q1", "q2"]


def test_a_keys_batches_are_admitted_ahead_and_sent_to_the_queue_by_the_api_counted_once_each(host, anonymous, new_key):
    """After its first batches, a key's batches take no call to the inference service: the api
    admits them from slots it took ahead and sends them to the queue itself. Each still counts
    once (the rate-limit headers count down by one), and each is indexed."""
    headers = {"x-api-key": new_key("pro")["key"]}
    if int(time.time()) % 60 > 45:  # every batch in one window
        time.sleep(61 - int(time.time()) % 60)

    responses = [anonymous.post("/events", headers=headers, json=[{"id": f"ahead{b}-{i}", "type": "view"} for i in range(3)])
                 for b in range(12)]

    assert [(r.status_code, r.json()["queued"]) for r in responses] == [(202, True)] * 12
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in responses]
    assert remaining == list(range(remaining[0], remaining[0] - 12, -1))
    assert [landed(anonymous, r, headers=headers)["accepted"] for r in responses] == [3] * 12
    assert anonymous.get("/v1/usage", headers=headers).json()["events"] == 36
    if host is not None:  # a local run: the inference service's log says which calls the batches took
        ids = {r.headers["x-request-id"] for r in responses}
        calls = [line["rpc"] for line in map(json.loads, filter(lambda text: text.startswith("{"), host.lines))
                 if line.get("message") == "rpc" and line.get("request_id") in ids]
        # The first batch verifies the key (then the inference service reserves its events and
        # sends it on), the second takes 10 slots (a thirtieth of 300 a minute) with the events of
        # 9 more batches like it held ahead, the 12th 10 more.
        assert calls == ["admit", "process_events", "admit", "admit"]


def test_a_batch_too_big_for_one_message_is_stored_in_r2_first_then_queued_and_indexed(anonymous, new_key, control):
    """Whichever worker admits it, a batch over a message's size goes through R2: the api leaves
    it to the inference service, which stores it before sending its marker."""
    headers = {"x-api-key": new_key("pro")["key"]}
    anonymous.post("/events", headers=headers, json=[{"type": "warm-up"}])  # the key now known to the api
    big = [{"id": f"big{i}", "type": "note", "properties": {"text": "x" * 6_000}} for i in range(20)]  # 120 KB

    response = anonymous.post("/events", headers=headers, json=big)

    body = response.json()
    assert (response.status_code, body["queued"], body["accepted"]) == (202, True, 20)
    assert any(body["batchId"] in key for key in control.r2_keys("events/"))  # stored before the 202
    assert landed(anonymous, response, headers=headers)["accepted"] == 20


def test_concurrent_batches_are_all_indexed_and_none_is_lost(base_url, new_key):
    headers = {"x-api-key": new_key("enterprise")["key"]}
    batches = [[{"id": f"c{b}-{i}", "type": "load", "component": f"C{i % 3}"} for i in range(50)] for b in range(20)]

    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client, ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda events: client.post("/events", json=events), batches))
        statuses = [landed(client, response) for response in responses]
        usage = client.get("/v1/usage").json()

    assert [s["accepted"] for s in statuses] == [50] * 20
    assert usage["events"] == 1000


def test_a_poisoned_batch_is_dead_lettered_visibly_and_the_replay_indexes_it_once_it_can(anonymous, new_key, admin_token, control):
    owner = new_key("pro")
    batch_id = f"bpoison{int(time.time() * 1000)}"
    r2_key = f"events/2026-11-30/{batch_id}.ndjson"  # never stored: every attempt fails
    marker = {"batch_id": batch_id, "key_id": owner["id"], "tier": "pro", "r2_key": r2_key, "received_at": int(time.time() * 1000)}
    admin = {"authorization": f"Bearer {admin_token}"}

    control.client.post(f"/__devhost/queues/{QUEUE}", json={"body": json.dumps(marker)}).raise_for_status()

    deadline = time.monotonic() + 30
    while True:
        waiting = anonymous.post("/graphql", headers=admin, json={"query": "{ unindexedBatches { batchId keyId reason } }"}).json()
        found = [b for b in waiting["data"]["unindexedBatches"] if b["batchId"] == batch_id]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert found == [{"batchId": batch_id, "keyId": owner["id"], "reason": "the event queue gave up on it after its retries (max_retries)"}]
    assert control.r2_keys(f"unindexed/{batch_id}") == [f"unindexed/{batch_id}"]
    status = anonymous.get(f"/events/batches/{batch_id}", headers={"x-api-key": owner["key"]}).json()
    assert status["indexed"] is False

    # Its events turn up (say, restored from a backup): the next replay indexes the batch.
    events = [{"id": f"p{i}", "type": "late", "component": None, "name": None, "session_id": None, "user_id": None,
               "ts": marker["received_at"], "properties": None} for i in range(3)]
    control.client.put("/__devhost/r2/inference-service/ARCHIVE", params={"key": r2_key},
                       content="".join(json.dumps(e) + "\n" for e in events)).raise_for_status()
    control.fire_cron()

    assert control.r2_keys(f"unindexed/{batch_id}") == []
    status = anonymous.get(f"/events/batches/{batch_id}", headers={"x-api-key": owner["key"]}).json()
    assert (status["indexed"], status["accepted"]) == (True, 3)


def test_raw_events_past_the_retention_window_are_purged_and_metrics_keep_them(anonymous, new_key, control):
    headers = {"x-api-key": new_key("pro")["key"]}
    day = 86_400_000
    now = int(time.time() * 1000)
    old = now - (TEST_RETENTION_DAYS + 5) * day  # accepted (30 days back), older than the window
    landed(anonymous, anonymous.post("/events", headers=headers, json=[
        {"id": "old1", "type": "archived", "timestamp": old}, {"id": "old2", "type": "archived", "timestamp": old + 1},
        {"id": "new1", "type": "fresh", "timestamp": now}]), headers=headers)
    start, end = (old - old % day), (now - now % day + day)
    query = {"query": "query($r: TimeRange!) { eventMetrics(metric: EVENTS_BY_TYPE, range: $r, bucket: DAY) { totals { key value } } "
                      "events(first: 10) { edges { node { id } } } }",
             "variables": {"r": {"from": iso(start), "to": iso(end)}}}

    def seen():
        data = anonymous.post("/graphql", headers=headers, json=query).json()["data"]
        return ({t["key"]: t["value"] for t in data["eventMetrics"]["totals"]}, sorted(e["node"]["id"] for e in data["events"]["edges"]))

    assert seen() == ({"archived": 2, "fresh": 1}, ["new1", "old1", "old2"])
    control.fire_cron()

    metrics, listed = seen()
    assert listed == ["new1"]  # the raw rows are gone (the batch is still in R2)
    assert metrics == {"archived": 2, "fresh": 1}  # counted from the hourly rollups


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


@pytest.mark.parametrize(("producer", "earlier_batches"), [
    ("inference-service", 0),  # a key's first batch: the inference service admits and sends it
    ("inference-ui-api", 1),  # a later one, within the key's lease: the api admits and sends it itself
])
def test_a_batch_the_queue_refuses_is_a_503_to_send_again_and_counts_once_when_resent(anonymous, new_key, control, producer, earlier_batches):
    headers = {"x-api-key": new_key("pro")["key"]}
    for earlier in range(earlier_batches):
        landed(anonymous, anonymous.post("/events", headers=headers, json=[{"id": f"earlier-{earlier}", "type": "view"}]), headers=headers)
    batch = [{"id": "refused-1", "type": "view"}, {"id": "refused-2", "type": "click"}]
    control.fault(f"{producer}.EVENT_QUEUE.send", "Queue unavailable")

    refused = anonymous.post("/events", headers=headers, json=batch)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(RESEND_AFTER_SECONDS)
    assert refused.json()["error"] == {"code": "service_unavailable", "message": "The events could not be stored; send them again"}
    resent = anonymous.post("/events", headers=headers, json=batch)  # the queue works again
    status = landed(anonymous, resent, headers=headers)
    assert (status["accepted"], status["duplicates"]) == (2, 0)
    assert anonymous.get("/v1/usage", headers=headers).json()["events"] == earlier_batches + 2  # the refused send counted nothing
