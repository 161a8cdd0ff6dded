"""POST /events: a batch of UI events, validated event by event. Answers 202 once the batch is
durable (its queue message sent, or in R2), with what was accepted, what was a duplicate, and what was rejected and why
(api/ingestion.py, shared with GraphQL's trackEvents)."""

from api.bodies import read_bytes
from api.call import RequestContext
from api.ingestion import ingest
from api.runtime import Response
from shared.contract import BatchRef


async def get_batch(call: RequestContext) -> Response:
    """A batch as indexed (accepted, duplicates), or `indexed: false` while it waits (or is unknown)."""
    status = await call.inference.batch_status(BatchRef(caller=call.caller, batch_id=call.path_params["batch_id"][:64]))
    return call.json({"batchId": status.batch_id, "indexed": status.indexed, "received": status.received,
                      "accepted": status.accepted, "duplicates": status.duplicates, "indexedAt": status.indexed_at})


async def post_events(call: RequestContext) -> Response:
    body = await read_bytes(call.request, call.settings.events_max_body_bytes)
    return call.json(await ingest(call, body), 202)
