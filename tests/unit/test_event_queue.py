"""The one way either worker sends a batch to the event queue (shared/batches.py `EventQueue`):
its events in its message when they fit; a bigger batch stored first by whoever can (the
inference service, in R2) and its marker sent, or left to it (the api, which writes no storage);
a send the queue refuses is a 503 telling the client to send the batch again."""

import asyncio

import pytest

from shared.batches import BatchNotStored, EventQueue, batch_of, event_queue
from tests.fakes import Queue
from tests.unit.event_batches import groups_of, marker_of, ndjson_of

SMALL = ndjson_of(1)
BIG = ndjson_of(2, events_in_batch=20, filler="x" * 6_000)


def test_a_batch_that_fits_is_sent_with_its_events():
    queue = Queue()

    assert asyncio.run(EventQueue(queue).send(marker_of("b1"), groups_of(SMALL), SMALL)) is True

    assert batch_of(queue.sent[0]) == (marker_of("b1"), SMALL, [("view", "", 3)])


def test_a_batch_too_big_for_a_message_is_left_to_a_producer_that_can_store_it():
    queue = Queue()

    assert asyncio.run(EventQueue(queue).send(marker_of("b2"), groups_of(BIG), BIG)) is False

    assert queue.sent == []


def test_a_batch_too_big_for_a_message_is_stored_first_then_its_marker_is_sent():
    queue, stored = Queue(), []

    async def store(marker, ndjson):
        stored.append((marker.r2_key, ndjson))

    assert asyncio.run(EventQueue(queue).send(marker_of("b2"), groups_of(BIG), BIG, store=store)) is True

    assert stored == [(marker_of("b2").r2_key, BIG)]
    assert batch_of(queue.sent[0]) == (marker_of("b2"), None, groups_of(BIG))


def test_a_refused_send_tells_the_client_to_send_the_batch_again():
    queue = Queue()
    queue.failing = True

    with pytest.raises(BatchNotStored) as refused:
        asyncio.run(EventQueue(queue).send(marker_of("b3"), groups_of(SMALL), SMALL))

    error = refused.value
    assert (error.status, error.headers, error.body()["error"]["code"]) == (503, {"retry-after": "5"}, "service_unavailable")
    assert "queue send failed" in error.cause


def test_a_worker_without_a_queue_bound_has_none():
    assert event_queue(type("Env", (), {})()) is None
    env = type("Env", (), {"EVENT_QUEUE": Queue()})()
    assert isinstance(event_queue(env), EventQueue)
