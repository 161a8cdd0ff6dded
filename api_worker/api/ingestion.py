"""Event ingestion as POST /events and GraphQL's trackEvents share it: the batch limits, event
by event validation (shared/events.py), the batch id (the same for a retried batch), and the
answer once the batch is durable: sent to the event queue by the api itself when it admitted the
batch (api/admission.py: usually from a slot held in this isolate, so the batch takes no call to
the inference service), or else handed to the inference service, which admits it or reserves its
events and sends or stores it (shared/batches.py)."""

import hashlib
from typing import Any

from api.admission import admit_batch, caller_limits
from api.call import RequestContext
from shared import clock
from shared.batches import BatchNotStored, Groups, Marker, event_queue
from shared.contract import EventBatch
from shared.events import checked_events, group_counts


def batch_limit(call: RequestContext) -> int:
    """The most events one request may carry: EVENTS_MAX_BATCH, and the caller's tier's."""
    limits = caller_limits(call)  # none for the admin
    return min(call.settings.events_max_batch, limits.max_batch_size) if limits is not None else call.settings.events_max_batch


async def ingest(call: RequestContext, source: bytes | list[Any]) -> dict[str, Any]:
    """Checks, hands over and answers a batch: a request's body, or events already read."""
    now_ms = int(clock.now() * 1000)
    accepted, ndjson, rejected = checked_events(source, now_ms, max_events=batch_limit(call),
                                                max_bytes=call.settings.events_max_body_bytes)
    rejections = [r.model_dump() for r in rejected]
    # The batch id follows from the caller and the batch's content: a retried batch is the same batch.
    digest = hashlib.sha256(f"{call.caller.key_id}:{[e['id'] for e in accepted]}".encode()).hexdigest()
    batch_id, groups = f"b{digest[:31]}", group_counts(accepted)
    answer = {"batchId": batch_id, "status": f"/events/batches/{batch_id}", "rejected": rejections}
    # A caller known here is admitted now, its events reserved (api/admission.py: usually from a slot
    # held in this isolate), and the api sends the batch itself; any other batch is admitted and
    # its events reserved by the inference service (its work call, or a reservation of its own).
    if await admit_batch(call, batch_id, len(accepted)):
        marker = Marker.received(batch_id, call.caller.key_id, call.caller.tier, now_ms)
        if await _queued(call, marker, groups, ndjson):
            # Until the batch is indexed, every valid event counts as accepted: it is stored, and
            # duplicates among them are dropped when it is indexed.
            return {**answer, "indexed": False, "queued": True, "accepted": len(accepted), "duplicates": None}
    batch = EventBatch(request_id=call.request_id, caller=call.caller, batch_id=batch_id, received_at=now_ms,
                       ndjson=ndjson, count=len(accepted), groups=groups)
    result = await call.inference.process_events(batch, call.admission)
    return {**answer, "indexed": result.indexed, "queued": result.queued,
            "accepted": result.accepted if result.indexed else result.received, "duplicates": result.duplicates}


async def _queued(call: RequestContext, marker: Marker, groups: Groups, ndjson: str) -> bool:
    """Sends the batch, events and all, to the event queue (bound: admit_batch checked); False when
    it is too big for one message (the inference service stores it in R2 first). A refused send is
    the client's 503, to send the batch again: where a queue is bound, it is the only way in."""
    try:
        return await event_queue(call.env).send(marker, groups, ndjson)
    except BatchNotStored as refused:
        print(f"request {call.request_id}: {refused.cause}")
        raise
