"""The event queue's consumer (inference/events.py `consume`, `dead_letter`) on CPython with the
store fakes: several batches in one D1 transaction, a bad one retried with backoff without
holding the others back, and the dead-letter queue leaving its batches to the replay."""

import asyncio
import json
from dataclasses import asdict

from inference import events
from inference.store.archive import MARKER_PREFIX, Marker
from tests.fakes import inference_env

T0 = 1_800_000_000_000


class Message:
    """A delivered message, as store/runtime.QueueMessage presents one."""

    def __init__(self, marker: Marker, attempts: int = 1) -> None:
        self.body = json.dumps(asdict(marker))
        self.attempts = attempts
        self.acked = False
        self.retried_after: int | None = None

    def ack(self) -> None:
        self.acked = True

    def retry(self, delay_seconds: int) -> None:
        self.retried_after = delay_seconds


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
