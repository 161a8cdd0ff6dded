"""The AI SDK routes: POST /stream/chat (useChat), /stream/completion (useCompletion) and
/stream/object (useObject). Bodies stream straight from the inference service: the api worker
validates, calls, and relays the bytes without reading them."""

import uuid
from typing import Any

from api import bodies
from api.call import RequestContext
from api.relay import relay
from api.runtime import Response
from shared.errors import ApiError, ErrorCode

COMPLETION_PROTOCOLS = {"data": "ui", "text": "text"}


def _ids(call: RequestContext) -> dict[str, Any]:
    return {"caller": call.caller, "request_id": call.request_id, "default_model": call.default_model}


async def post_chat(call: RequestContext) -> Response:
    body = await bodies.read_body(call.request, bodies.ChatBody)
    stream_id = body.messageId or f"msg-{uuid.uuid4().hex}"
    return await relay(call, bodies.chat_request(body, stream_id=stream_id, **_ids(call)))


def completion_protocol(call: RequestContext) -> str:
    """useCompletion does not say which protocol it reads, so the caller picks with
    `?protocol=data|text` or the `x-stream-protocol` header; "data" is useCompletion's default."""
    chosen = call.query.get("protocol") or call.headers.get("x-stream-protocol") or "data"
    if chosen not in COMPLETION_PROTOCOLS:
        raise ApiError(ErrorCode.INVALID_REQUEST, "protocol must be 'data' or 'text'", field="protocol")
    return COMPLETION_PROTOCOLS[chosen]


async def post_completion(call: RequestContext) -> Response:
    protocol = completion_protocol(call)
    body = await bodies.read_body(call.request, bodies.CompletionBody)
    generation = bodies.completion_request(body, protocol, stream_id=f"msg-{uuid.uuid4().hex}", **_ids(call))
    return await relay(call, generation)


async def post_object(call: RequestContext) -> Response:
    body = await bodies.read_body(call.request, bodies.ObjectBody)
    return await relay(call, bodies.object_request(body, stream_id=f"obj-{uuid.uuid4().hex}", **_ids(call)))
