"""The batches R2 holds and D1 may not (their marker, `unindexed/<batch id>`: D1 failed in the
request, or the dead-letter queue left them): listed for the admin, and indexed again by the
scheduled replay, which also gives their events the enrichment they missed."""

from typing import Any

from inference import enrichment
from inference.events.indexing import data_points, index_batch
from inference.log import log
from inference.store import stores_of
from shared.batches import Groups
from shared.contract import Caller, UnindexedBatch
from shared.events import from_ndjson, group_counts


async def unindexed_batches(env: Any) -> list[UnindexedBatch]:
    return [UnindexedBatch.model_validate(row) for row in await stores_of(env).archive.unindexed()]


async def replay_unindexed(env: Any, max_batches: int = 500) -> dict[str, int]:
    """Indexes the batches whose marker is still in R2. Goes through every marker, so a batch
    that keeps failing holds none of the others back; at most `max_batches` are tried a run."""
    stores = stores_of(env)
    replayed = failed = orphans = remaining = 0
    counted: list[tuple[str, Groups]] = []  # the batches with new events, for Analytics Engine
    async for marker in stores.archive.markers():
        if replayed + failed + orphans >= max_batches:
            remaining += 1
            continue
        try:
            ndjson = await stores.archive.read_batch(marker.r2_key)
            if ndjson is None:
                # Its events were never stored (the client was told to send them again): nothing to index.
                await stores.archive.drop_marker(marker.batch_id)
                orphans += 1
                log(f"replay: batch {marker.batch_id} has a marker but no events; marker removed")
                continue
            accepted = await index_batch(stores, marker, ndjson)
            await stores.archive.drop_marker(marker.batch_id)
            replayed += 1
        except Exception as exc:
            failed += 1
            log(f"replay of batch {marker.batch_id} failed, kept for the next run: {exc}")
            continue
        # Only a batch that was new to D1: one already indexed (its marker outlived it) had its labels and points.
        if accepted:
            events = from_ndjson(ndjson)
            counted.append((marker.key_id, group_counts(events)))
            if enrichment.enabled(env):
                await enrichment.enrich(env, Caller(key_id=marker.key_id, tier=marker.tier), events)
    stores.telemetry.write_all(data_points(counted))
    return {"replayed": replayed, "failed": failed, "orphans_removed": orphans, "remaining": remaining}
