"""Event batches through the runtime's queue (EVENT_QUEUE): concurrent batches are all indexed and
none is lost, and a batch the queue refuses is the client's to send again. Its other behaviours (archived, indexed, dead-lettered, replayed, purged)
run in process (tests/inprocess/test_event_queue.py)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.batches import RESEND_AFTER_SECONDS
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
