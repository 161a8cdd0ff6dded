"""Event batches through the runtime's queue (EVENT_QUEUE): concurrent batches are all indexed and
none is lost. The queue's other behaviours (archived, indexed, dead-lettered, replayed, purged)
run in process (tests/inprocess/test_event_queue.py)."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import host_only, landed

pytestmark = host_only


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
