"""Event ingestion as POST /events and GraphQL's trackEvents share it: the batch limits, event
by event validation, the batch id (the same for a retried batch), and the answer once the
inference service has the batch durable."""

import hashlib
import time
from typing import Any

from api.call import Call
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
    now_ms = int(time.time() * 1000)
    accepted, ndjson, rejected = checked_batch(raw_events, now_ms, validated=validated)
    rejections = [r.model_dump() for r in rejected]
    if not accepted:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"No valid events ({rejections[0]['field']}: {rejections[0]['message']})",
                       field="events", rejected=rejections)
    # The batch id follows from the caller and the batch's content: a retried batch is the same batch.
    digest = hashlib.sha256(f"{call.caller.key_id}:{[e['id'] for e in accepted]}".encode()).hexdigest()
    batch = EventBatch(request_id=call.request_id, caller=call.caller, batch_id=f"b{digest[:31]}", received_at=now_ms,
                       ndjson=ndjson, count=len(accepted), groups=group_counts(accepted))
    result = await call.inference.process_events(batch)
    return {
        "batchId": result.batch_id,
        "indexed": result.indexed,
        "queued": result.queued,
        "status": f"/events/batches/{result.batch_id}",
        # Until the batch is indexed (see `indexed`), every valid event counts as accepted: it is
        # stored, and duplicates among them are dropped when the replay indexes it.
        "accepted": result.accepted if result.indexed else result.received,
        "duplicates": result.duplicates,
        "rejected": rejections,
    }
