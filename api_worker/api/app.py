"""The request pipeline: request id, routing, the handler, and the one error shape."""

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from workers import Response

from api import health
from api.router import Router
from shared.errors import ApiError, ErrorCode, error_body

router = Router()
router.add("GET", "/health", health.get_health, public=True)


@dataclass
class Call:
    """What a handler gets: the request, the bindings, and the request id."""

    request: Any
    env: Any
    ctx: Any
    request_id: str

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return json_response(body, status, self.request_id, headers)


def json_response(
    body: Any, status: int, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    merged = {"content-type": "application/json", "x-request-id": request_id, **(headers or {})}
    return Response(json.dumps(body, separators=(",", ":")), status=status, headers=merged)


def _request_id(request: Any) -> str:
    return request.headers.get("cf-ray") or uuid.uuid4().hex


async def handle(request: Any, env: Any, ctx: Any) -> Response:
    request_id = _request_id(request)
    try:
        route = router.match(request.method, urlsplit(request.url).path)
        return await route.handler(Call(request, env, ctx, request_id))
    except ApiError as err:
        return json_response(err.body(), err.status, request_id, err.headers)
    except Exception as exc:
        # The traceback goes to the log (wrangler tail), never to the client.
        print(f"request {request_id} failed: {type(exc).__name__}: {exc}")
        body = error_body(ErrorCode.INTERNAL, "Internal error", request_id=request_id)
        return json_response(body, 500, request_id)
