"""Event batches through the queue (EVENT_QUEUE), on the local runtime: answered once queued (the
events in the message), archived in R2 and indexed by the consumer shortly after, several at a time; a batch the consumer keeps
failing on goes to the dead-letter queue, whose consumer leaves it visible to the admin and to
the replay, which indexes it once it can. Nothing accepted is lost."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import TEST_RETENTION_DAYS, host_only, landed

pytestmark = host_only
QUEUE = "inference-ui-events"


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
