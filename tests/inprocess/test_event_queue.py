"""Event batches through the queue (EVENT_QUEUE): answered once queued (the events in the
message), archived in R2 and indexed by the consumer; a key's batches admitted ahead by the api,
each counted once."""

import json

from tests.e2e.conftest import landed


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


def test_a_keys_batches_are_admitted_ahead_and_sent_to_the_queue_by_the_api_counted_once_each(anonymous, new_key, clock, capsys):
    """After its first batches, a key's batches take no call to the inference service: the api
    admits them from slots it took ahead and sends them to the queue itself. Each still counts
    once (the rate-limit headers count down by one), and each is indexed."""
    headers = {"x-api-key": new_key("pro")["key"]}
    clock.next_minute()  # every batch in one window
    capsys.readouterr()  # the log lines of this test's requests only

    responses = [anonymous.post("/events", headers=headers, json=[{"id": f"ahead{b}-{i}", "type": "view"} for i in range(3)])
                 for b in range(12)]

    assert [(r.status_code, r.json()["queued"]) for r in responses] == [(202, True)] * 12
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in responses]
    assert remaining == list(range(remaining[0], remaining[0] - 12, -1))
    assert [landed(anonymous, r, headers=headers)["accepted"] for r in responses] == [3] * 12
    assert anonymous.get("/v1/usage", headers=headers).json()["events"] == 36
    # The inference service's log says which calls the batches took.
    ids = {r.headers["x-request-id"] for r in responses}
    calls = [line["rpc"] for line in map(json.loads, filter(lambda text: text.startswith("{"), capsys.readouterr().out.splitlines()))
             if line.get("message") == "rpc" and line.get("request_id") in ids]
    # The first batch verifies the key (then the inference service reserves its events and
    # sends it on), the second takes 10 slots (a thirtieth of 300 a minute) with the events of
    # 9 more batches like it held ahead, the 12th 10 more.
    assert calls == ["admit", "process_events", "admit", "admit"]
