"""The request pipeline, in order: request id, CORS preflight, routing, authentication and
admission (rate limit, quotas), the handler, and the headers every response carries. Any
error becomes the one JSON error shape."""

import importlib
import json
import time
import traceback
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from workers import Response

from api import cors
from api.auth import authenticate, settle_admission
from api.call import Call, RequestHeaders, json_response
from api.routes import router
from api.settings import settings_of
from shared.errors import ApiError, ErrorCode, error_body, openai_error_body

_handlers: dict[str, Any] = {}


def _resolve(handler: Any) -> Any:
    if not isinstance(handler, str):
        return handler
    if handler not in _handlers:
        module, _, name = handler.partition(":")
        _handlers[handler] = getattr(importlib.import_module(module), name)
    return _handlers[handler]


def _error_response(err: ApiError, path: str, request_id: str) -> Response:
    body = err.body()
    if path.startswith("/v1/"):
        body = openai_error_body(body, err.status)
    return json_response(body, err.status, request_id, err.headers)


def _preflight(path: str, origin: str | None, allowlist: frozenset[str], request_id: str) -> Response:
    methods = router.methods_for(path)
    if not methods:
        raise ApiError(ErrorCode.NOT_FOUND, f"No route for {path}", path=path)
    if not cors.is_allowed(origin, allowlist):
        raise ApiError(ErrorCode.FORBIDDEN, "This origin is not allowed", reason="origin_not_allowed")
    return Response(None, status=204, headers={"x-request-id": request_id, **cors.preflight_headers(origin, allowlist, methods)})


def _finish(response: Response, call: Call | None, origin: str | None, allowlist: frozenset[str]) -> Response:
    headers = response.js_object.headers
    for name, value in cors.SECURITY_HEADERS.items():
        if not headers.has(name):  # a route may set its own (GraphiQL's page loads scripts)
            headers.set(name, value)
    for name, value in cors.response_headers(origin, allowlist).items():
        headers.set(name, value)
    client = call.made_client if call is not None else None
    if client is not None and client.backend is not None:
        headers.set("x-inference-backend", client.backend)
    if call is not None and call.rate_window is not None:
        headers.set("x-ratelimit-limit", str(call.rate_window.limit))
        headers.set("x-ratelimit-remaining", str(call.rate_window.remaining))
        headers.set("x-ratelimit-reset", str(call.rate_window.reset_seconds))
    return response


def _log(request_id: str, method: str, path: str, status: int, started: float, call: Call | None) -> None:
    """One JSON line a request, for `wrangler tail` and Workers Logs."""
    client = call.made_client if call is not None else None
    print(json.dumps({
        "request_id": request_id, "method": method, "path": path, "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "credential": call.credential if call else None,
        "caller": call.caller.key_id if call and call.caller else None,
        "backend": client.backend if client else None,
        "failovers": client.failovers if client and client.failovers else None,
    }, separators=(",", ":")))


async def handle(request: Any, env: Any, ctx: Any) -> Response:
    started = time.perf_counter()
    headers = RequestHeaders(request)
    request_id = headers.get("cf-ray") or uuid.uuid4().hex
    url = urlsplit(request.url)
    origin = headers.get("origin")
    settings = settings_of(env)
    allowlist = settings.allowed_origins
    call = None
    try:
        if request.method == "OPTIONS":
            response = _preflight(url.path, origin, allowlist, request_id)
        else:
            route = router.match(request.method, url.path)
            call = Call(request, headers, env, ctx, settings, request_id, url.path, dict(parse_qsl(url.query)),
                        router.path_params(route, url.path))
            if not route.public:
                await authenticate(call, route)
            try:
                response = await _resolve(route.handler)(call)
            finally:
                await settle_admission(call)
    except ApiError as err:
        response = _error_response(err, url.path, request_id)
    except Exception as exc:
        # The traceback goes to the log (wrangler tail), never to the client.
        print(f"request {request_id} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        response = json_response(error_body(ErrorCode.INTERNAL, "Internal error", request_id=request_id), 500, request_id)
    _log(request_id, request.method, url.path, response.status, started, call)
    return _finish(response, call, origin, allowlist)
