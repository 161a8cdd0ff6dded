"""A batch the api hands over (`process_events`): admitted (its events reserved of the day's
quota), then made durable before the client is answered. Where the event queue is bound it is the
only way in (shared/batches.py: the events in the message when they fit, else stored in R2 first
and the marker sent); if it refuses the batch, the client is told to send it again. Without a
queue (a deployment without Queues), the one fallback: the batch is stored in R2 and
indexed in the request, and if D1 fails its marker is written for the replay before the client is
answered."""

import asyncio
from typing import Any

from inference import admission, enrichment
from inference.events.indexing import data_points, index_batch
from inference.log import log
from inference.store import Stores, stores_of
from shared.batches import RESEND_AFTER_SECONDS, BatchNotStored, Marker
from shared.contract import BatchResult, EventBatch, ServiceFailed, ServiceFailure
from shared.events import from_ndjson
from shared.reservations import Reservation


async def process_events(env: Any, ctx: Any, batch: EventBatch) -> BatchResult:
    # Its events reserved of the day's quota under the batch's id (settled once it is indexed).
    await admission.admitted(env, ctx, batch.admission, batch.caller, Reservation(batch.batch_id, "events", events=batch.count))
    stores = stores_of(env)
    marker = Marker.received(batch.batch_id, batch.caller.key_id, batch.caller.tier, batch.received_at)
    result = BatchResult(batch_id=batch.batch_id, received=batch.count, accepted=None, duplicates=None, indexed=False)
    try:
        if stores.queue is not None:
            # Counted in Analytics Engine by the consumer, as it indexes the batch.
            await stores.queue.send(marker, batch.groups, batch.ndjson, store=stores.archive.store_events)
            return result.model_copy(update={"queued": True})
        return await _stored_and_indexed(env, ctx, stores, marker, batch, result)
    except BatchNotStored as refused:
        log(f"{refused.cause}; nothing accepted")
        raise ServiceFailed(ServiceFailure(code=refused.code, message=refused.message, retry_after=RESEND_AFTER_SECONDS)) from None


async def _stored_and_indexed(env: Any, ctx: Any, stores: Stores, marker: Marker, batch: EventBatch,
                              result: BatchResult) -> BatchResult:
    """Without a queue: the batch stored in R2, then indexed (or, if D1 fails, marked for the replay)."""
    try:
        await stores.archive.store_events(marker, batch.ndjson)
    except Exception as exc:
        raise BatchNotStored(marker.batch_id, f"R2 write failed: {exc}") from None
    try:
        accepted = await index_batch(stores, marker, batch.ndjson)
    except Exception as exc:  # stored in R2 already: marked, the scheduled replay indexes it
        try:
            await stores.archive.mark_unindexed(marker, f"D1 indexing failed: {exc}")
        except Exception as marking:
            raise BatchNotStored(marker.batch_id, f"D1 indexing failed ({exc}) and so did its marker: {marking}") from None
        log(f"batch {marker.batch_id}: D1 indexing failed, left for replay: {exc}")
        return result
    if enrichment.enabled(env) and enrichment.candidates(env, events := from_ndjson(batch.ndjson)):
        ctx.waitUntil(asyncio.ensure_future(enrichment.enrich(env, batch.caller, events)))
    if accepted:  # counted once indexed (if D1 failed, by the replay that indexes it)
        stores.telemetry.write_all(data_points([(marker.key_id, batch.groups)]))
    return result.model_copy(update={"accepted": accepted, "duplicates": batch.count - accepted, "indexed": True})
