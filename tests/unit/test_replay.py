"""The replay of batches D1 could not index (inference/events/replay.py): every marker is
visited, page by page; a failing batch holds back none of the others; a marker whose events were
never stored is removed; at most so many batches a run."""

import asyncio

from inference.events import replay
from inference.store.archive import MARKER_PREFIX
from shared.batches import Marker
from shared.events import checked_events
from tests.fakes import inference_env

NOW = 1_800_000_000_000


def stored_batch(env, batch_id: str, with_events: bool = True) -> None:
    r2_key = f"events/2027-01-15/{batch_id}.ndjson"
    if with_events:
        env.ARCHIVE.objects[r2_key] = (checked_events([{"type": "view", "id": batch_id}], NOW, max_events=1).ndjson, {})
    meta = {"key_id": "k1", "tier": "pro", "r2_key": r2_key, "received_at": str(NOW)}
    env.ARCHIVE.objects[MARKER_PREFIX + batch_id] = ("", meta)


def markers_left(env) -> list[str]:
    return [k for k in env.ARCHIVE.objects if k.startswith(MARKER_PREFIX)]


def test_every_marker_is_replayed_past_failures_and_orphans_are_removed(monkeypatch):
    env = inference_env()
    for i in range(250):
        stored_batch(env, f"b{i:03d}", with_events=i % 50 != 7)  # 5 orphans
    real_index = replay.index_batch

    async def index_batch(stores, marker: Marker, ndjson):
        if marker.batch_id < "b060":  # the first 60 keep failing, as a bad batch would every run
            raise RuntimeError("D1 refused it")
        return await real_index(stores, marker, ndjson)

    monkeypatch.setattr(replay, "index_batch", index_batch)

    outcome = asyncio.run(replay.replay_unindexed(env))

    # 250 markers: 5 orphans (2 of them among the first 60), 58 failing, the rest indexed.
    assert outcome == {"replayed": 187, "failed": 58, "orphans_removed": 5, "remaining": 0}
    assert env.DB.rows("SELECT COUNT(*), MAX(batch_id) FROM events") == [(187, "b249")]
    assert len(markers_left(env)) == 58  # only the failing ones wait for the next run


def test_a_run_tries_at_most_max_batches_and_counts_the_rest():
    env = inference_env()
    for i in range(30):
        stored_batch(env, f"c{i:02d}")

    outcome = asyncio.run(replay.replay_unindexed(env, max_batches=20))

    assert (outcome["replayed"], outcome["remaining"]) == (20, 10)
    assert len(markers_left(env)) == 10


def test_a_batch_replayed_again_counts_nothing_twice():
    env = inference_env()
    stored_batch(env, "d1")
    asyncio.run(replay.replay_unindexed(env))
    stored_batch(env, "d1")  # its marker outlived its indexing

    outcome = asyncio.run(replay.replay_unindexed(env))

    assert outcome["replayed"] == 1 and markers_left(env) == []
    assert env.DB.rows("SELECT COUNT(*) FROM events") == [(1,)]
    assert [p["doubles"][0] for p in env.ANALYTICS.points] == [1]
