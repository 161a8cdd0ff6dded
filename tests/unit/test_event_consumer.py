"""The event queue, its producer and its consumer (inference/events.py `process_events`, `consume`,
`dead_letter`) on CPython with the store fakes: a batch travels in its message unless it is too
big for one; the consumer archives what came in messages to R2 and indexes several batches in one
D1 transaction, a bad one retried with backoff without holding the others back; the dead-letter
queue leaves its batches to the replay."""

import asyncio
import json
from dataclasses import asdict

from inference import events
from inference.store.archive import MARKER_PREFIX
from shared.batches import MAX_MESSAGE_BYTES, Marker, batch_of, message_of
from shared.contract import Caller, EventBatch
from shared.events import from_ndjson, group_counts
from tests.fakes import Queue, inference_env

T0 = 1_800_000_000_000


class Message:
    """A delivered message, as store/runtime.QueueMessage presents one."""

    def __init__(self, marker: Marker, attempts: int = 1, ndjson: str | None = None) -> None:
        self.body = message_of(marker, groups_of(ndjson), ndjson) if ndjson is not None else json.dumps(asdict(marker))
        self.attempts = attempts
        self.acked = False
        self.retried_after: int | None = None

    def ack(self) -> None:
        self.acked = True

    def retry(self, delay_seconds: int) -> None:
        self.retried_after = delay_seconds


def groups_of(ndjson: str) -> list[tuple[str, str, int]]:
    return group_counts(from_ndjson(ndjson))


def stored_batch(env, n: int, events_in_batch: int = 3) -> Marker:
    marker = Marker(batch_id=f"b{n}", key_id="k", tier="pro", r2_key=f"events/2027-01-15/b{n}.ndjson", received_at=T0)
    lines = "".join(json.dumps({"id": f"e{n}-{i}", "type": "view", "name": None, "component": None, "session_id": None,
                                "user_id": None, "ts": T0 + i, "properties": None}) + "\n" for i in range(events_in_batch))
    asyncio.run(env.ARCHIVE.put(marker.r2_key, lines))
    return marker


def test_ten_batches_are_indexed_in_one_d1_transaction_and_acknowledged():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    messages = [Message(stored_batch(env, n)) for n in range(10)]

    asyncio.run(events.consume(env, messages))

    assert env.DB.batches == 1  # one round trip for all ten
    assert all(m.acked for m in messages)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(30,)]
    assert env.DB.rows("SELECT SUM(events) FROM usage_daily") == [(30,)]


def test_a_batch_that_fails_is_retried_with_backoff_and_holds_no_other_back():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    good = Message(stored_batch(env, 1))
    missing = Message(Marker(batch_id="gone", key_id="k", tier="pro", r2_key="events/x/gone.ndjson", received_at=T0), attempts=3)

    asyncio.run(events.consume(env, [good, missing]))

    assert good.acked and not missing.acked
    assert missing.retried_after == 8  # 2 s, doubled for each attempt before: 2, 4, 8
    assert events.retry_delay(20, 2) == 300  # at most five minutes


def test_a_dead_lettered_batch_is_left_to_the_replay_which_indexes_it():
    env = inference_env()
    marker = stored_batch(env, 7)
    message = Message(marker)

    asyncio.run(events.dead_letter(env, [message]))

    assert message.acked
    assert f"{MARKER_PREFIX}{marker.batch_id}" in env.ARCHIVE.objects
    assert [b.reason for b in asyncio.run(events.unindexed_batches(env))] == ["the event queue gave up on it after its retries (max_retries)"]
    assert asyncio.run(events.replay_unindexed(env))["replayed"] == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]


def test_while_d1_fails_every_batch_is_retried_and_once_it_recovers_all_are_indexed():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="1")
    markers = [stored_batch(env, n) for n in range(3)]
    env.DB.failing = "INTO events"

    first = [Message(marker) for marker in markers]
    asyncio.run(events.consume(env, first))

    assert [(m.acked, m.retried_after) for m in first] == [(False, 1)] * 3
    env.DB.failing = None
    again = [Message(marker, attempts=2) for marker in markers]
    asyncio.run(events.consume(env, again))

    assert all(m.acked for m in again)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(9,)]  # none lost, none twice


def ndjson_of(n: int, events_in_batch: int = 3, filler: str = "") -> str:
    return "".join(json.dumps({"id": f"e{n}-{i}", "type": "view", "name": None, "component": None, "session_id": None,
                               "user_id": None, "ts": T0 + i, "properties": {"note": filler} if filler else None}) + "\n"
                   for i in range(events_in_batch))


def sent_batch(n: int, ndjson: str) -> EventBatch:
    return EventBatch(request_id="r", caller=Caller(key_id="k", tier="pro"), batch_id=f"b{n}", received_at=T0,
                      ndjson=ndjson, count=ndjson.count("\n"), groups=groups_of(ndjson))


CTX = type("Ctx", (), {"waitUntil": lambda self, work: None})()


def test_a_batch_that_fits_in_a_message_travels_in_it_and_r2_is_not_written_on_the_request():
    env = inference_env()
    env.EVENT_QUEUE = Queue()
    ndjson = ndjson_of(1)

    answered = asyncio.run(events.process_events(env, CTX, sent_batch(1, ndjson)))

    assert (answered.queued, answered.indexed, answered.received) == (True, False, 3)
    assert env.ARCHIVE.objects == {}
    message = env.EVENT_QUEUE.sent[0]
    marker, carried, groups = batch_of(message)
    assert (marker.batch_id, marker.r2_key, carried, groups) == ("b1", "events/2027-01-15/b1.ndjson", ndjson, [("view", "", 3)])
    assert message.endswith("\n" + ndjson)  # the events as archived, after one line of JSON: not escaped into it
    assert env.ANALYTICS.points == []  # counted by the consumer, once indexed


def test_a_batch_too_big_for_a_message_is_stored_in_r2_first_and_its_message_carries_the_marker():
    env = inference_env()
    env.EVENT_QUEUE = Queue()
    ndjson = ndjson_of(2, events_in_batch=20, filler="x" * 6_000)  # 120 KB
    assert len(ndjson) > MAX_MESSAGE_BYTES

    answered = asyncio.run(events.process_events(env, CTX, sent_batch(2, ndjson)))

    assert answered.queued
    assert env.ARCHIVE.objects["events/2027-01-15/b2.ndjson"][0] == ndjson
    assert batch_of(env.EVENT_QUEUE.sent[0])[1] is None


def test_a_refused_send_stores_the_batch_in_r2_and_indexes_it_in_the_request():
    env = inference_env()
    env.EVENT_QUEUE = Queue()
    env.EVENT_QUEUE.failing = True

    answered = asyncio.run(events.process_events(env, CTX, sent_batch(3, ndjson_of(3))))

    assert (answered.queued, answered.indexed, answered.accepted) == (False, True, 3)
    assert "events/2027-01-15/b3.ndjson" in env.ARCHIVE.objects


def test_the_consumer_archives_batches_that_came_in_their_message_then_indexes_them():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    carried = [Message(Marker(batch_id=f"m{n}", key_id="k", tier="pro", r2_key=f"events/2027-01-15/m{n}.ndjson", received_at=T0),
                       ndjson=ndjson_of(n)) for n in range(4)]
    from_r2 = Message(stored_batch(env, 9))

    asyncio.run(events.consume(env, [*carried, from_r2]))

    assert all(m.acked for m in [*carried, from_r2])
    assert env.DB.batches == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(15,)]
    assert [env.ARCHIVE.objects[f"events/2027-01-15/m{n}.ndjson"][0] for n in range(4)] == [ndjson_of(n) for n in range(4)]
    # The four batches that brought their groups, counted in one point (the one from R2 predates groups).
    assert [(p["blobs"], p["doubles"]) for p in env.ANALYTICS.points] == [(["event", "view", ""], [12])]


def test_a_batch_delivered_again_is_indexed_once_and_counted_once():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    marker = Marker(batch_id="m1", key_id="k", tier="pro", r2_key="events/2027-01-15/m1.ndjson", received_at=T0)

    for _ in range(2):
        asyncio.run(events.consume(env, [Message(marker, ndjson=ndjson_of(1))]))

    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]
    assert [p["doubles"] for p in env.ANALYTICS.points] == [[3]]


def test_a_batch_r2_would_not_archive_is_retried_and_not_indexed_until_it_is():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    marker = Marker(batch_id="m1", key_id="k", tier="pro", r2_key="events/2027-01-15/m1.ndjson", received_at=T0)
    env.ARCHIVE.failing_puts_under = "events/"

    first = Message(marker, ndjson=ndjson_of(1))
    asyncio.run(events.consume(env, [first]))

    assert (first.acked, first.retried_after) == (False, 2)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(0,)]
    env.ARCHIVE.failing_puts_under = None
    again = Message(marker, attempts=2, ndjson=ndjson_of(1))
    asyncio.run(events.consume(env, [again]))
    assert again.acked and env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]


def test_a_dead_lettered_batch_that_came_in_its_message_is_stored_with_its_marker_for_the_replay():
    env = inference_env()
    marker = Marker(batch_id="m5", key_id="k", tier="pro", r2_key="events/2027-01-15/m5.ndjson", received_at=T0)
    message = Message(marker, ndjson=ndjson_of(5))

    asyncio.run(events.dead_letter(env, [message]))

    assert message.acked and env.ARCHIVE.objects[marker.r2_key][0] == ndjson_of(5)
    assert asyncio.run(events.replay_unindexed(env))["replayed"] == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]
