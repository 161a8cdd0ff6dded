"""A batch the api hands to the inference service (inference/events/ingest.py `process_events`):
where a queue is bound, the batch goes to it and nowhere else (in its message when it fits, else
stored in R2 first and its marker sent), and a batch the queue refuses is the client's to send
again; without a queue, the one fallback: stored in R2 and indexed in the request, its marker
left for the replay if D1 fails."""

import asyncio
import json

import pytest

from inference.events import ingest, replay
from inference.store.archive import MARKER_PREFIX
from shared.batches import MAX_MESSAGE_BYTES, batch_of
from shared.contract import BatchResult, EventBatch, ServiceFailed
from shared.events import checked_events, from_ndjson, to_ndjson
from tests.fakes import Queue, inference_env
from tests.unit.event_batches import CTX, T0, batch_of_types, ndjson_of, sent_batch


def with_queue(failing: bool = False):
    env = inference_env()
    env.EVENT_QUEUE = Queue()
    env.EVENT_QUEUE.failing = failing
    return env


def markers_left(env) -> list[str]:
    return [k for k in env.ARCHIVE.objects if k.startswith(MARKER_PREFIX)]


def refusal(env, batch: EventBatch) -> ServiceFailed:
    with pytest.raises(ServiceFailed) as refused:
        asyncio.run(ingest.process_events(env, CTX, batch))
    return refused.value


def test_a_batch_that_fits_in_a_message_travels_in_it_and_r2_is_not_written_on_the_request():
    env = with_queue()
    ndjson = ndjson_of(1)

    answered = asyncio.run(ingest.process_events(env, CTX, sent_batch(1, ndjson)))

    assert (answered.queued, answered.indexed, answered.received) == (True, False, 3)
    assert env.ARCHIVE.objects == {}
    message = env.EVENT_QUEUE.sent[0]
    marker, carried, groups = batch_of(message)
    assert (marker.batch_id, marker.r2_key, carried, groups) == ("b1", "events/2027-01-15/b1.ndjson", ndjson, [("view", "", 3)])
    assert message.endswith("\n" + ndjson)  # the events as archived, after one line of JSON: not escaped into it
    assert env.ANALYTICS.points == []  # counted by the consumer, once indexed


def test_a_batch_too_big_for_a_message_is_stored_in_r2_first_and_its_message_carries_the_marker():
    env = with_queue()
    ndjson = ndjson_of(2, events_in_batch=20, filler="x" * 6_000)  # 120 KB
    assert len(ndjson) > MAX_MESSAGE_BYTES

    answered = asyncio.run(ingest.process_events(env, CTX, sent_batch(2, ndjson)))

    assert answered.queued
    assert env.ARCHIVE.objects["events/2027-01-15/b2.ndjson"][0] == ndjson
    assert batch_of(env.EVENT_QUEUE.sent[0])[1] is None


def test_a_batch_the_bound_queue_refuses_is_the_clients_to_send_again_and_nothing_is_indexed():
    env = with_queue(failing=True)

    failure = refusal(env, sent_batch(3, ndjson_of(3))).failure

    assert (failure.code, failure.retry_after) == ("service_unavailable", 5)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(0,)]  # the queue is the only way in: no second path
    assert env.ANALYTICS.points == [] and markers_left(env) == []


def test_a_big_batch_r2_refuses_is_not_sent_and_is_the_clients_to_send_again():
    env = with_queue()
    env.ARCHIVE.failing_puts_under = "events/"

    failure = refusal(env, sent_batch(4, ndjson_of(4, events_in_batch=20, filler="x" * 6_000))).failure

    assert (failure.code, failure.retry_after) == ("service_unavailable", 5)
    assert env.EVENT_QUEUE.sent == []  # a marker of events R2 does not hold would be lost to the consumer


def test_without_a_queue_a_batch_indexed_at_once_leaves_its_events_in_r2_and_no_marker():
    env = inference_env()

    answered = asyncio.run(ingest.process_events(env, CTX, batch_of_types("view", "click")))

    assert (answered.queued, answered.indexed, answered.accepted, answered.duplicates) == (False, True, 2, 0)
    assert markers_left(env) == [] and [k for k in env.ARCHIVE.objects if k.startswith("events/")] != []
    assert sorted((p["blobs"][1], p["doubles"][0]) for p in env.ANALYTICS.points) == [("click", 1), ("view", 1)]


def test_without_a_queue_a_batch_d1_refused_is_answered_as_stored_and_indexed_by_the_next_replay():
    env = inference_env()
    env.DB.failing = "INSERT OR IGNORE INTO events"

    answered = asyncio.run(ingest.process_events(env, CTX, batch_of_types("view", "click", batch_id="b1")))
    assert env.ANALYTICS.points == []  # counted once indexed
    env.DB.failing = None
    outcome = asyncio.run(replay.replay_unindexed(env))

    assert answered == BatchResult(batch_id="b1", received=2, accepted=None, duplicates=None, indexed=False)
    assert outcome["replayed"] == 1 and markers_left(env) == []
    assert env.DB.rows("SELECT COUNT(*) FROM events WHERE key_id = 'k'") == [(2,)]
    assert sorted((p["blobs"][1], p["doubles"][0]) for p in env.ANALYTICS.points) == [("click", 1), ("view", 1)]


def test_without_a_queue_a_batch_neither_indexed_nor_marked_is_refused_for_the_client_to_send_again():
    env = inference_env()
    env.DB.failing = "INSERT OR IGNORE INTO events"
    env.ARCHIVE.failing_puts_under = MARKER_PREFIX

    failure = refusal(env, batch_of_types("view")).failure

    assert (failure.code, failure.retry_after) == ("service_unavailable", 5)


def test_without_a_queue_events_r2_will_not_store_are_refused_and_leave_no_marker():
    env = inference_env()
    env.ARCHIVE.failing_puts_under = "events/"

    failure = refusal(env, batch_of_types("view")).failure

    assert (failure.code, failure.retry_after) == ("service_unavailable", 5)
    assert markers_left(env) == [] and env.DB.rows("SELECT COUNT(*) FROM events") == [(0,)]


def test_a_batch_from_an_api_deployed_before_the_ndjson_form_is_still_taken():
    events = from_ndjson(checked_events([{"type": "view"}, {"type": "click"}, {"type": "view"}], T0, max_events=10).ndjson)
    old_form = {"request_id": "r", "caller": {"key_id": "k", "tier": "pro"}, "batch_id": "b9", "received_at": T0,
                "events": [event.model_dump() for event in events]}

    batch = EventBatch.model_validate_json(json.dumps(old_form))

    assert (batch.count, batch.groups, batch.ndjson) == (3, [("view", "", 2), ("click", "", 1)], to_ndjson(events))
