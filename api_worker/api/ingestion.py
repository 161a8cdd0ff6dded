"""Event ingestion as POST /events and GraphQL's trackEvents share it: the batch limits, event
by event validation, the batch id (the same for a retried batch), and the answer once the batch
is durable: sent to the event queue by the api itself when it admitted the batch (api/auth.py:
usually from a slot held in this isolate, so the batch takes no call to the inference service),
or else handed to the inference service, which admits it or reserves its events."""

import hashlib
from typing import Any

from api.auth import admit_batch
from api.call import Call
from api.event_queue import event_queue_of
from shared import clock
from shared.batches import Marker, message_of
from shared.contract import EventBatch
from shared.errors import ApiError, ErrorCode
from shared.events import checked_batch, group_counts


def batch_limit(call: Call) -> int:
    """The most events one request may carry: EVENTS_MAX_BATCH, and the caller's tier's."""
    return min(call.settings.events_max_batch, call.settings.limits_for(call.caller.tier).max_batch_size)


async def ingest(call: Call, raw_events: list[Any], *, validated: bool = False) -> dict[str, Any]:
    """Checks, hands over and answers a batch (`validated`: its events are shared.events.valid_events')."""
    if not raw_events:
        raise ApiError(ErrorCode.INVALID_REQUEST, "events: send at least one event", field="events")
    limit = batch_limit(call)
    if len(raw_events) > limit:
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"events: at most {limit} a batch; this one has {len(raw_events)}",
                       field="events", limit=limit)
    now_ms = int(clock.now() * 1000)
    accepted, ndjson, rejected = checked_batch(raw_events, now_ms, validated=validated)
    rejections = [r.model_dump() for r in rejected]
    if not accepted:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"No valid events ({rejections[0]['field']}: {rejections[0]['message']})",
                       field="events", rejected=rejections)
    # The batch id follows from the caller and the batch's content: a retried batch is the same batch.
    digest = hashlib.sha256(f"{call.caller.key_id}:{[e['id'] for e in accepted]}".encode()).hexdigest()
    batch_id, groups = f"b{digest[:31]}", group_counts(accepted)
    answer = {"batchId": batch_id, "status": f"/events/batches/{batch_id}", "rejected": rejections}
    # A caller known here is admitted now, its events reserved (api/auth.py: usually from a slot
    # held in this isolate), and the api sends the batch itself; any other batch is admitted and
    # its events reserved by the inference service (its work call, or a reservation of its own).
    if call.admission_pending and await admit_batch(call, batch_id, len(accepted)):
        marker = Marker.received(batch_id, call.caller.key_id, call.caller.tier, now_ms)
        if await _sent_to_queue(call, message_of(marker, groups, ndjson)):
            # Until the batch is indexed, every valid event counts as accepted: it is stored, and
            # duplicates among them are dropped when it is indexed.
            return {**answer, "indexed": False, "queued": True, "accepted": len(accepted), "duplicates": None}
    batch = EventBatch(request_id=call.request_id, caller=call.caller, batch_id=batch_id, received_at=now_ms,
                       ndjson=ndjson, count=len(accepted), groups=groups)
    result = await call.inference.process_events(batch)
    return {**answer, "indexed": result.indexed, "queued": result.queued,
            "accepted": result.accepted if result.indexed else result.received, "duplicates": result.duplicates}


async def _sent_to_queue(call: Call, message: str | None) -> bool:
    """Sends a batch's message (events and all) to the event queue; False when there is none, the
    batch was too big for one message (`message` is None: the inference service stores it in R2
    first), or the send failed (the inference service then stores and indexes it as it can)."""
    queue = event_queue_of(call.env)
    if queue is None or message is None:
        return False
    try:
        await queue.send(message)
    except Exception as exc:
        print(f"request {call.request_id}: event queue send failed ({type(exc).__name__}: {exc}); the inference service takes the batch")
        return False
    return True
