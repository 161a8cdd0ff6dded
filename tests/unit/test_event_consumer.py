"""The event queue's consumer (inference/events/consumer.py) on CPython with the store fakes: it
archives what came in messages to R2 and indexes several batches in one D1 transaction, a bad
one retried with backoff without holding the others back, each batch indexed and counted once."""

import asyncio

from inference.events import consumer
from tests.fakes import inference_env
from tests.unit.event_batches import Message, marker_of, ndjson_of, stored_batch


def test_ten_batches_are_indexed_in_one_d1_transaction_and_acknowledged():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    messages = [Message(stored_batch(env, n)) for n in range(10)]

    asyncio.run(consumer.consume(env, messages))

    assert env.DB.batches == 1  # one round trip for all ten
    assert all(m.acked for m in messages)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(30,)]
    assert env.DB.rows("SELECT SUM(events) FROM usage_daily") == [(30,)]


def test_a_batch_that_fails_is_retried_with_backoff_and_holds_no_other_back():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    good = Message(stored_batch(env, 1))
    missing = Message(marker_of("gone"), attempts=3)

    asyncio.run(consumer.consume(env, [good, missing]))

    assert good.acked and not missing.acked
    assert missing.retried_after == 8  # 2 s, doubled for each attempt before: 2, 4, 8
    assert consumer.retry_delay(20, 2) == 300  # at most five minutes


def test_while_d1_fails_every_batch_is_retried_and_once_it_recovers_all_are_indexed():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="1")
    markers = [stored_batch(env, n) for n in range(3)]
    env.DB.failing = "INTO events"

    first = [Message(marker) for marker in markers]
    asyncio.run(consumer.consume(env, first))

    assert [(m.acked, m.retried_after) for m in first] == [(False, 1)] * 3
    env.DB.failing = None
    again = [Message(marker, attempts=2) for marker in markers]
    asyncio.run(consumer.consume(env, again))

    assert all(m.acked for m in again)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(9,)]  # none lost, none twice


def test_the_consumer_archives_batches_that_came_in_their_message_then_indexes_them():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    carried = [Message(marker_of(f"m{n}"), ndjson=ndjson_of(n)) for n in range(4)]
    from_r2 = Message(stored_batch(env, 9))

    asyncio.run(consumer.consume(env, [*carried, from_r2]))

    assert all(m.acked for m in [*carried, from_r2])
    assert env.DB.batches == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(15,)]
    assert [env.ARCHIVE.objects[f"events/2027-01-15/m{n}.ndjson"][0] for n in range(4)] == [ndjson_of(n) for n in range(4)]
    # The four batches that brought their groups, counted in one point (the one from R2 predates groups).
    assert [(p["blobs"], p["doubles"]) for p in env.ANALYTICS.points] == [(["event", "view", ""], [12])]


def test_a_batch_delivered_again_is_indexed_once_and_counted_once():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")

    for _ in range(2):
        asyncio.run(consumer.consume(env, [Message(marker_of("m1"), ndjson=ndjson_of(1))]))

    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]
    assert [p["doubles"] for p in env.ANALYTICS.points] == [[3]]


def test_a_batch_r2_would_not_archive_is_retried_and_not_indexed_until_it_is():
    env = inference_env(EVENT_RETRY_BASE_SECONDS="2")
    env.ARCHIVE.failing_puts_under = "events/"

    first = Message(marker_of("m1"), ndjson=ndjson_of(1))
    asyncio.run(consumer.consume(env, [first]))

    assert (first.acked, first.retried_after) == (False, 2)
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(0,)]
    env.ARCHIVE.failing_puts_under = None
    again = Message(marker_of("m1"), attempts=2, ndjson=ndjson_of(1))
    asyncio.run(consumer.consume(env, [again]))
    assert again.acked and env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]
