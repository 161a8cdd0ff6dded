"""Event ingestion that loses nothing: a batch is durable in R2 before anyone is told it was
received, indexed into D1 next, and replayed from R2 if indexing failed.

R2 holds each batch's events (`events/<day>/<batch id>.ndjson`), and, for a batch D1 could not
index, a marker (`unindexed/<batch id>`, store/archive.py) written before the client is answered
and removed once the replay (the scheduled handler) has indexed it. A batch indexed at once needs
no marker: until it is, the client has no answer and sends it again if the worker dies. Indexing
is idempotent (events are unique per key and id; a batch's usage is counted once), so indexing a
batch twice changes nothing."""

import asyncio
from collections import Counter
from typing import Any

from inference import access, enrichment
from inference.settings import Settings
from inference.store import Stores, stores_of
from inference.store.archive import Marker, archive_key
from inference.store.telemetry import WRITES_PER_INVOCATION, event_point
from shared.contract import BatchResult, Caller, EventBatch, ServiceFailed, ServiceFailure
from shared.errors import ErrorCode
from shared.events import Event, from_ndjson, to_ndjson

# Enrichment's model calls (one point each) follow the batch's points in the same invocation.
AE_POINTS_PER_BATCH = WRITES_PER_INVOCATION - Settings.events_enrichment_max_per_batch


async def index_batch(stores: Stores, marker: Marker, ndjson: str) -> int:
    """Indexes the batch (its NDJSON, as archived) into D1; the number of events that were new."""
    return await stores.db.index_batch(marker.key_id, marker.batch_id, marker.r2_key, marker.received_at, ndjson)


def _not_stored() -> ServiceFailed:
    return ServiceFailed(ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE, retry_after=5,
                                        message="The events could not be stored; send them again"))


def data_points(key_id: str, events: list[Event]) -> list[dict[str, Any]]:
    """One point per (type, component), its count as a double: AE's per-invocation write limit
    rules out a point per event. The rarest groups share the last point."""
    groups = Counter((e.type, e.component or "") for e in events)
    ranked = groups.most_common()
    kept, rest = ranked[: AE_POINTS_PER_BATCH - 1], ranked[AE_POINTS_PER_BATCH - 1:]
    if rest:
        kept.append((("(other)", ""), sum(count for _, count in rest)))
    return [event_point(key_id, type_, component, count) for (type_, component), count in kept]


async def process_events(env: Any, ctx: Any, batch: EventBatch) -> BatchResult:
    window = await access.admitted(env, ctx, batch.admission)
    stores = stores_of(env)
    key_id = batch.caller.key_id
    marker = Marker(batch_id=batch.batch_id, key_id=key_id, tier=batch.caller.tier,
                    r2_key=archive_key(batch.batch_id, batch.received_at), received_at=batch.received_at)
    ndjson = to_ndjson(batch.events)
    try:
        await stores.archive.store_events(marker, ndjson)
    except Exception as exc:
        print(f"batch {batch.batch_id}: R2 write failed, nothing accepted: {exc}")
        raise _not_stored() from None

    result = BatchResult(batch_id=batch.batch_id, received=len(batch.events), accepted=None, duplicates=None, indexed=False,
                         window=window)
    try:
        accepted = await index_batch(stores, marker, ndjson)
        result = result.model_copy(update={"accepted": accepted, "duplicates": len(batch.events) - accepted, "indexed": True})
        if enrichment.enabled(env) and enrichment.candidates(env, batch.events):
            ctx.waitUntil(asyncio.ensure_future(enrichment.enrich(env, batch.caller, batch.events)))
    except Exception as exc:  # stored in R2 already: marked, the scheduled replay indexes it
        try:
            await stores.archive.mark_unindexed(marker)
        except Exception as marking:
            print(f"batch {batch.batch_id}: D1 indexing failed ({exc}) and so did its marker: {marking}")
            raise _not_stored() from None
        print(f"batch {batch.batch_id}: D1 indexing failed, left for replay: {exc}")
    for point in data_points(key_id, batch.events):
        stores.telemetry.write(point)
    return result


async def replay_unindexed(env: Any, max_batches: int = 500) -> dict[str, int]:
    """Indexes the batches whose marker is still in R2 (their D1 indexing failed), and gives
    their events the enrichment they missed at ingestion. Goes through every marker, so a batch
    that keeps failing holds none of the others back; at most `max_batches` are tried a run."""
    stores = stores_of(env)
    replayed = failed = orphans = remaining = 0
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
                print(f"replay: batch {marker.batch_id} has a marker but no events; marker removed")
                continue
            accepted = await index_batch(stores, marker, ndjson)
            await stores.archive.drop_marker(marker.batch_id)
            replayed += 1
        except Exception as exc:
            failed += 1
            print(f"replay of batch {marker.batch_id} failed, kept for the next run: {exc}")
            continue
        # Only a batch that was new to D1: one already indexed (its marker outlived it) had its labels.
        if accepted and enrichment.enabled(env):
            await enrichment.enrich(env, Caller(key_id=marker.key_id, tier=marker.tier), from_ndjson(ndjson))
    return {"replayed": replayed, "failed": failed, "orphans_removed": orphans, "remaining": remaining}
