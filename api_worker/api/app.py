"""The request pipeline: request id, routing, the handler, and the one error shape."""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from workers import Response

from api import generation, health, openai
from api.router import Router
from shared.contract import Caller
from shared.errors import ApiError, ErrorCode, error_body
from shared.models import DEFAULT_TEXT_MODEL

router = Router()
router.add("GET", "/health", health.get_health, public=True)
router.add("POST", "/stream/chat", generation.post_chat)
router.add("POST", "/stream/completion", generation.post_completion)
router.add("POST", "/stream/object", generation.post_object)
router.add("POST", "/v1/chat/completions", openai.post_chat_completions)
router.add("POST", "/v1/embeddings", openai.post_embeddings)
router.add("GET", "/v1/models", openai.get_models)


@dataclass
class Call:
    """What a handler gets: the request, the bindings, and what the pipeline learned."""

    request: Any
    env: Any
    ctx: Any
    request_id: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    caller: Caller = field(default_factory=lambda: Caller(key_id="anonymous"))

    @property
    def default_model(self) -> str:
        return getattr(self.env, "DEFAULT_MODEL", None) or DEFAULT_TEXT_MODEL

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return json_response(body, status, self.request_id, headers)


def json_response(
    body: Any, status: int, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    merged = {"content-type": "application/json", "x-request-id": request_id, **(headers or {})}
    return Response(json.dumps(body, separators=(",", ":")), status=status, headers=merged)


def _error_response(err: ApiError, path: str, request_id: str) -> Response:
    body = err.body()
    if path.startswith("/v1/"):
        body = openai.openai_error(body, err.status)
    return json_response(body, err.status, request_id, err.headers)


async def handle(request: Any, env: Any, ctx: Any) -> Response:
    request_id = request.headers.get("cf-ray") or uuid.uuid4().hex
    url = urlsplit(request.url)
    try:
        route = router.match(request.method, url.path)
        call = Call(request, env, ctx, request_id, url.path, dict(parse_qsl(url.query)))
        return await route.handler(call)
    except ApiError as err:
        return _error_response(err, url.path, request_id)
    except Exception as exc:
        # The traceback goes to the log (wrangler tail), never to the client.
        print(f"request {request_id} failed: {type(exc).__name__}: {exc}")
        return json_response(error_body(ErrorCode.INTERNAL, "Internal error", request_id=request_id), 500, request_id)
