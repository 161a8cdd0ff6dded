"""POST /events: a batch of UI events, validated event by event. Answers 202 once the batch is
durable (in R2), with what was accepted, what was a duplicate, and what was rejected and why
(api/ingestion.py, shared with GraphQL's trackEvents)."""

from typing import Any

from workers import Response

from api.bodies import read_json, validated
from api.call import Call
from api.ingestion import ingest
from shared.base import Model


class EventsBody(Model):
    events: list[Any]


async def post_events(call: Call) -> Response:
    data = await read_json(call.request, call.settings.events_max_body_bytes)
    events = data if isinstance(data, list) else validated(EventsBody, data).events
    return call.json(await ingest(call, events), 202)
