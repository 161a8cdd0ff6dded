"""The request pipeline, in order: request id, CORS preflight, routing, authentication and
admission (rate limit, quotas), the handler, and the headers every response carries. Any
error becomes the one JSON error shape."""

import asyncio
import importlib
import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from api import cors
from api.admission import admit, settle
from api.call import RequestContext, RequestHeaders, json_response
from api.negotiation import preferred_type
from api.router import Handler
from api.routes import router
from api.runtime import Response, jsnull
from api.settings import settings_of
from shared.errors import ApiError, ErrorCode, error_body, openai_error_body
from shared.tracing import TraceContext, span_under


def _imported(handler: Handler) -> Any:
    if not isinstance(handler, str):
        return handler
    module, _, name = handler.partition(":")
    return getattr(importlib.import_module(module), name)


# Every route's handler, imported with this module: Cloudflare runs a worker's top level once, at
# deploy, and restores every isolate from a snapshot of it, so what is imported here (graphql-core
# and the schema, the OpenAPI document, the models' validators) costs no isolate's first request
# (docs/architecture.md, "Top level and snapshot").
_HANDLERS = {route.handler: _imported(route.handler) for route in router.routes()}


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


@dataclass
class _Exchange:
    """What the pipeline has learned of a request so far, each field set once it is read without
    error: whatever fails, the error answer and the log line are made from these alone."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    method: str = "?"
    path: str = "?"
    origin: str | None = None
    allowlist: frozenset[str] = frozenset()
    call: RequestContext | None = None
    error: ApiError | None = None  # what the client was answered with, if an error
    trace: TraceContext | None = None  # the api's span: under the client's traceparent, or a new trace's first
    model: str | None = None  # the model and cache state that answered, as the service's headers said
    cache: str | None = None


def _finish(response: Response, exchange: _Exchange) -> Response:
    headers = response.js_object.headers
    for name, value in cors.SECURITY_HEADERS.items():
        if not headers.has(name):  # a route may set its own (GraphiQL's page loads scripts)
            headers.set(name, value)
    for name, value in cors.response_headers(exchange.origin, exchange.allowlist).items():
        headers.set(name, value)
    call = exchange.call
    client = call.made_client if call is not None else None
    if client is not None and client.backend is not None:
        headers.set("x-inference-backend", client.backend)
    if exchange.trace is not None:  # what to look the request up by in a trace backend, and in both workers' logs
        headers.set("x-trace-id", exchange.trace.trace_id)
    exchange.model, exchange.cache = _header(headers, "x-model"), _header(headers, "x-cache")
    if call is not None and call.admission is not None and (window := call.admission.window) is not None:
        headers.set("x-ratelimit-limit", str(window.limit))
        headers.set("x-ratelimit-remaining", str(window.remaining))
        headers.set("x-ratelimit-reset", str(window.reset_seconds))
    return response


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    return None if value is None or value is jsnull else str(value)


def _log(exchange: _Exchange, status: int, ms: float, stream: dict[str, Any] | None = None) -> None:
    """One JSON line a request, for `wrangler tail` and Workers Logs: `ms` until the answer's
    headers; an error's code and reason (why a 401 was refused: no credentials, an unknown or
    revoked key, a token's bad signature, expiry or form); for a relayed stream, `stream_ms` until
    its end and how it ended (`stream`); the api's span (`trace_id`, `span_id`, `parent_span_id`:
    the client's span, when it sent a traceparent), whose attributes the line names."""
    call = exchange.call
    client = call.made_client if call is not None else None
    error = exchange.error
    print(json.dumps({
        "request_id": exchange.request_id, "method": exchange.method, "path": exchange.path, "status": status,
        "ms": ms,
        **(stream or {}),
        "error": str(error.code) if error else None,
        "reason": error.details.get("reason") if error else None,
        "credential": call.credential if call else None,
        "caller": call.caller.key_id if call and call.caller else None,
        "backend": client.backend if client else None,
        "model": exchange.model, "cache": exchange.cache,
        "failovers": client.failovers if client and client.failovers else None,
        **(exchange.trace.log_fields() if exchange.trace else {}),
    }, separators=(",", ":")))


def _log_quietly(exchange: _Exchange, status: int, ms: float, stream: dict[str, Any] | None = None) -> None:
    try:
        _log(exchange, status, ms, stream)
    except Exception:  # a log line that cannot be written must not cost the client its answer
        print(f"request {exchange.request_id}: no log line:\n{traceback.format_exc()}")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def _log_at_stream_end(exchange: _Exchange, status: int, ms: float, started: float) -> None:
    try:
        await exchange.call.stream_end
        ended = "ok"
    except Exception:  # the answer ended abnormally (the service's error), or the client went away
        ended = "aborted"
    _log_quietly(exchange, status, ms, {"stream_ms": _elapsed_ms(started), "stream": ended})


async def _respond(request: Any, env: Any, ctx: Any, exchange: _Exchange) -> Response:
    """The answer, with every header it carries; records in `exchange` what it learns on the way."""
    headers = RequestHeaders(request)
    exchange.request_id = headers.get("cf-ray") or exchange.request_id
    exchange.trace = span_under(headers.get("traceparent"))
    # The SDK's `request.method` is an http.HTTPMethod, which raises for any method outside that enum.
    exchange.method = str(request.js_object.method)
    url = urlsplit(request.url)
    exchange.path = url.path
    exchange.origin = headers.get("origin")
    settings = settings_of(env)
    exchange.allowlist = settings.allowed_origins
    try:
        if exchange.method == "OPTIONS":
            response = _preflight(url.path, exchange.origin, exchange.allowlist, exchange.request_id)
        else:
            route = router.match(exchange.method, url.path)
            if route.page is not None and preferred_type(headers.get("accept"), ("application/json", "text/html")) == "text/html":
                return _finish(Response(None, status=302, headers={"location": route.page, "x-request-id": exchange.request_id}), exchange)
            call = exchange.call = RequestContext(request, headers, env, ctx, settings, exchange.request_id, url.path,
                                        dict(parse_qsl(url.query)), router.path_params(route, url.path), trace=exchange.trace)
            if not route.public:
                await admit(call, route)
            try:
                response = await _HANDLERS[route.handler](call)
            finally:
                await settle(call)
    except ApiError as err:
        exchange.error = err
        response = _error_response(err, url.path, exchange.request_id)
    return _finish(response, exchange)


def _internal_error(exchange: _Exchange) -> Response:
    """The 500 for a failure anywhere in `_respond`, finishing included."""
    # The traceback goes to the log (wrangler tail), never to the client.
    print(f"request {exchange.request_id} failed:\n{traceback.format_exc()}")
    exchange.error = ApiError(ErrorCode.INTERNAL, "Internal error")
    body = error_body(ErrorCode.INTERNAL, "Internal error", request_id=exchange.request_id)
    try:
        return _finish(json_response(body, 500, exchange.request_id), exchange)
    except Exception:  # finishing is what failed: the answer goes out with constant headers only
        print(f"request {exchange.request_id}: its error answer could not be finished:\n{traceback.format_exc()}")
        return json_response(body, 500, exchange.request_id, cors.SECURITY_HEADERS)


async def handle(request: Any, env: Any, ctx: Any) -> Response:
    started = time.perf_counter()
    exchange = _Exchange()
    try:
        response = await _respond(request, env, ctx, exchange)
    except Exception:
        response = _internal_error(exchange)
    ms = _elapsed_ms(started)
    if exchange.call is not None and exchange.call.stream_end is not None and response.status < 300:
        ctx.waitUntil(asyncio.ensure_future(_log_at_stream_end(exchange, response.status, ms, started)))
        return response
    _log_quietly(exchange, response.status, ms)
    return response
