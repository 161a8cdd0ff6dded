"""POST /events: a batch of UI events, validated event by event. Answers 202 once the batch is
durable (its queue message sent, or in R2), with what was accepted, what was a duplicate, and what was rejected and why
(api/ingestion.py, shared with GraphQL's trackEvents)."""

from typing import Any

from api.bodies import read_bytes, validated
from api.call import Call
from api.ingestion import ingest
from api.runtime import Response
from shared import json_reader
from shared.base import Model
from shared.contract import BatchRef
from shared.events import valid_events


class EventsBody(Model):
    events: list[Any]


async def get_batch(call: Call) -> Response:
    """A batch as indexed (accepted, duplicates), or `indexed: false` while it waits (or is unknown)."""
    status = await call.inference.batch_status(BatchRef(caller=call.caller, batch_id=call.path_params["batch_id"][:64]))
    return call.json({"batchId": status.batch_id, "indexed": status.indexed, "received": status.received,
                      "accepted": status.accepted, "duplicates": status.duplicates, "indexedAt": status.indexed_at})


async def post_events(call: Call) -> Response:
    max_bytes = call.settings.events_max_body_bytes
    body = await read_bytes(call.request, max_bytes)
    # The usual batch, every event valid: validated from the JSON text in one pass, no json.loads.
    if (events := valid_events(body, max_bytes)) is not None:
        return call.json(await ingest(call, events, validated=True), 202)
    data = json_reader.read_json(body, max_bytes=max_bytes)
    events = data if isinstance(data, list) else validated(EventsBody, data).events
    return call.json(await ingest(call, events), 202)
