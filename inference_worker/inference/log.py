"""The inference worker's log: one JSON line an entry, with the request id of the RPC call it
belongs to (set by the entrypoint for the call and everything it starts, waitUntil work
included), so that `wrangler tail` of both workers follows one request by its id, as the api
worker's JSON lines carry it too."""

import json
from contextvars import ContextVar
from typing import Any

WORKER = "inference-service"
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def log(message: str, **fields: Any) -> None:
    print(json.dumps({"worker": WORKER, "request_id": request_id.get(), "message": message, **fields},
                     default=str, separators=(",", ":")))
