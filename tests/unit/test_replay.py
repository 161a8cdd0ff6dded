"""The replay of batches D1 could not index: every marker is visited, page by page; a failing
batch holds back none of the others; a marker whose events were never stored is removed."""

import asyncio
import json

import pytest

from inference import events as ingestion
from inference.store.archive import MARKER_PREFIX
from shared.batches import Marker
from shared.contract import BatchResult, Caller, EventBatch, ServiceFailed
from shared.events import checked_batch, group_counts, to_ndjson, validate_batch
from tests.fakes import inference_env

NOW = 1_800_000_000_000


def stored_batch(env, batch_id: str, with_events: bool = True) -> None:
    events, _ = validate_batch([{"type": "view", "id": batch_id}], NOW)
    r2_key = f"events/2027-01-15/{batch_id}.ndjson"
    if with_events:
        env.ARCHIVE.objects[r2_key] = (to_ndjson(events), {})
    meta = {"key_id": "k1", "tier": "pro", "r2_key": r2_key, "received_at": str(NOW)}
    env.ARCHIVE.objects[MARKER_PREFIX + batch_id] = ("", meta)


def markers_left(env) -> list[str]:
    return [k for k in env.ARCHIVE.objects if k.startswith(MARKER_PREFIX)]


def test_every_marker_is_replayed_past_failures_and_orphans_are_removed(monkeypatch):
    env = inference_env()
    for i in range(250):
        stored_batch(env, f"b{i:03d}", with_events=i % 50 != 7)  # 5 orphans
    real_index = ingestion.index_batch

    async def index_batch(stores, marker: Marker, ndjson):
        if marker.batch_id < "b060":  # the first 60 keep failing, as a bad batch would every run
            raise RuntimeError("D1 refused it")
        return await real_index(stores, marker, ndjson)

    monkeypatch.setattr(ingestion, "index_batch", index_batch)

    outcome = asyncio.run(ingestion.replay_unindexed(env))

    # 250 markers: 5 orphans (2 of them among the first 60), 58 failing, the rest indexed.
    assert outcome == {"replayed": 187, "failed": 58, "orphans_removed": 5, "remaining": 0}
    assert env.DB.rows("SELECT COUNT(*), MAX(batch_id) FROM events") == [(187, "b249")]
    assert len(markers_left(env)) == 58  # only the failing ones wait for the next run


def test_a_run_tries_at_most_max_batches_and_counts_the_rest():
    env = inference_env()
    for i in range(30):
        stored_batch(env, f"c{i:02d}")

    outcome = asyncio.run(ingestion.replay_unindexed(env, max_batches=20))

    assert (outcome["replayed"], outcome["remaining"]) == (20, 10)
    assert len(markers_left(env)) == 10


def test_a_batch_d1_refused_is_answered_as_stored_and_indexed_by_the_next_replay():
    env = inference_env()
    batch = batch_of("view", "click", batch_id="b1")
    ctx = type("Ctx", (), {"waitUntil": lambda self, work: None})()
    env.DB.failing = "INSERT OR IGNORE INTO events"

    answered = asyncio.run(ingestion.process_events(env, ctx, batch))
    assert env.ANALYTICS.points == []  # counted once indexed
    env.DB.failing = None
    outcome = asyncio.run(ingestion.replay_unindexed(env))

    assert answered == BatchResult(batch_id="b1", received=2, accepted=None, duplicates=None, indexed=False)
    assert outcome["replayed"] == 1 and markers_left(env) == []
    assert env.DB.rows("SELECT COUNT(*) FROM events WHERE key_id = 'k1'") == [(2,)]
    assert sorted((p["blobs"][1], p["doubles"][0]) for p in env.ANALYTICS.points) == [("click", 1), ("view", 1)]


def batch_of(*types: str, batch_id: str = "b2") -> EventBatch:
    """The batch the api would hand over for these events (api/ingestion.py)."""
    events, ndjson, _ = checked_batch([{"type": t} for t in types], NOW)
    return EventBatch(request_id="r", caller=Caller(key_id="k1", tier="pro"), batch_id=batch_id, received_at=NOW,
                      ndjson=ndjson, count=len(events), groups=group_counts(events))


CTX = type("Ctx", (), {"waitUntil": lambda self, work: None})()


def test_a_batch_indexed_at_once_leaves_its_events_in_r2_and_no_marker():
    env = inference_env()

    answered = asyncio.run(ingestion.process_events(env, CTX, batch_of("view", "click")))

    assert answered.indexed and answered.accepted == 2
    assert markers_left(env) == [] and [k for k in env.ARCHIVE.objects if k.startswith("events/")] != []


def test_a_batch_neither_indexed_nor_marked_is_refused_for_the_client_to_send_again():
    env = inference_env()
    env.DB.failing = "INSERT OR IGNORE INTO events"
    env.ARCHIVE.failing_puts_under = MARKER_PREFIX

    with pytest.raises(ServiceFailed) as refused:
        asyncio.run(ingestion.process_events(env, CTX, batch_of("view")))

    assert refused.value.failure.code == "service_unavailable" and refused.value.failure.retry_after == 5


def test_a_batch_from_an_api_deployed_before_the_ndjson_form_is_still_taken():
    events, _ = validate_batch([{"type": "view"}, {"type": "click"}, {"type": "view"}], NOW)
    old_form = {"request_id": "r", "caller": {"key_id": "k1", "tier": "pro"}, "batch_id": "b9", "received_at": NOW,
                "events": [event.model_dump() for event in events]}

    batch = EventBatch.model_validate_json(json.dumps(old_form))

    assert (batch.count, batch.groups, batch.ndjson) == (3, [("view", "", 2), ("click", "", 1)], to_ndjson(events))
