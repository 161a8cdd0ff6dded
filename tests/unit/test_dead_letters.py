"""The dead-letter queue's consumer (inference/events/dead_letters.py): a batch the event queue
gave up on is left in R2 with its marker, visible to the admin, and indexed by the replay."""

import asyncio

import pytest

from inference.events import dead_letters, replay
from inference.store.archive import MARKER_PREFIX
from tests.fakes import inference_env
from tests.unit.event_batches import Message, marker_of, ndjson_of, stored_batch


def test_a_dead_lettered_batch_is_left_to_the_replay_which_indexes_it():
    env = inference_env()
    marker = stored_batch(env, 7)
    message = Message(marker)

    asyncio.run(dead_letters.dead_letter(env, [message]))

    assert message.acked
    assert f"{MARKER_PREFIX}{marker.batch_id}" in env.ARCHIVE.objects
    assert [b.reason for b in asyncio.run(replay.unindexed_batches(env))] == ["the event queue gave up on it after its retries (max_retries)"]
    assert asyncio.run(replay.replay_unindexed(env))["replayed"] == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]


def test_a_dead_lettered_batch_that_came_in_its_message_is_stored_with_its_marker_for_the_replay():
    env = inference_env()
    marker = marker_of("m5")
    message = Message(marker, ndjson=ndjson_of(5))

    asyncio.run(dead_letters.dead_letter(env, [message]))

    assert message.acked and env.ARCHIVE.objects[marker.r2_key][0] == ndjson_of(5)
    assert asyncio.run(replay.replay_unindexed(env))["replayed"] == 1
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(3,)]


def test_a_batch_r2_will_not_take_is_not_acknowledged_so_the_queue_delivers_it_again():
    env = inference_env()
    env.ARCHIVE.failing_puts_under = "events/"
    message = Message(marker_of("m6"), ndjson=ndjson_of(6))

    with pytest.raises(RuntimeError):  # the whole delivery fails: the queue retries it
        asyncio.run(dead_letters.dead_letter(env, [message]))

    assert not message.acked
    assert f"{MARKER_PREFIX}m6" not in env.ARCHIVE.objects
