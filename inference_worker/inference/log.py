"""The inference worker's log: one JSON line an entry, with the request id of the RPC call it
belongs to (set by the entrypoint for the call and everything it starts, waitUntil work
included), so that `wrangler tail` of both workers follows one request by its id, as the api
worker's JSON lines carry it too; and, for a work call, its span (shared/tracing.py: a child of
the api's, whose traceparent the call carries), so that a trace's id finds every line of it."""

import json
from contextvars import ContextVar
from typing import Any

from shared.tracing import TraceContext

WORKER = "inference-service"
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
trace: ContextVar[TraceContext | None] = ContextVar("trace", default=None)


def log(message: str, **fields: Any) -> None:
    span = trace.get()
    print(json.dumps({"worker": WORKER, "request_id": request_id.get(), "message": message, **fields,
                      **(span.log_fields() if span else {})}, default=str, separators=(",", ":")))
