"""The AI SDK routes: POST /stream/chat (useChat), /stream/completion (useCompletion) and
/stream/object (useObject). Bodies stream straight from the inference service: the api worker
validates, calls, and relays the bytes without reading them."""

import uuid
from typing import Any

from workers import Response

from api import requests
from api.auth import check_model_allowed
from shared.contract import GenerationRequest
from shared.errors import ApiError, ErrorCode
from shared.streams import PROTOCOL_HEADERS

COMPLETION_PROTOCOLS = {"data": "ui", "text": "text"}


async def read_body(call: Any, model: type[requests.Body]) -> requests.Body:
    return requests.validated(model, await requests.read_json(call.request))


async def relay(call: Any, generation: GenerationRequest) -> Response:
    check_model_allowed(call, generation.model)
    result = await call.inference.stream_generation(generation)
    headers = {**PROTOCOL_HEADERS[generation.protocol], "x-request-id": call.request_id}
    for name in ("x-model", "x-cache"):
        if value := result.headers.get(name):
            headers[name] = value
    return Response(result.body, headers=headers)


def _ids(call: Any) -> dict[str, Any]:
    return {"caller": call.caller, "request_id": call.request_id, "default_model": call.default_model}


async def post_chat(call: Any) -> Response:
    body = await read_body(call, requests.ChatBody)
    stream_id = body.messageId or f"msg-{uuid.uuid4().hex}"
    return await relay(call, requests.chat_request(body, stream_id=stream_id, **_ids(call)))


def completion_protocol(call: Any) -> str:
    """useCompletion does not say which protocol it reads, so the caller picks with
    `?protocol=data|text` or the `x-stream-protocol` header; "data" is useCompletion's default."""
    chosen = call.query.get("protocol") or call.request.headers.get("x-stream-protocol") or "data"
    if chosen not in COMPLETION_PROTOCOLS:
        raise ApiError(ErrorCode.INVALID_REQUEST, "protocol must be 'data' or 'text'", field="protocol")
    return COMPLETION_PROTOCOLS[chosen]


async def post_completion(call: Any) -> Response:
    protocol = completion_protocol(call)
    body = await read_body(call, requests.CompletionBody)
    generation = requests.completion_request(body, protocol, stream_id=f"msg-{uuid.uuid4().hex}", **_ids(call))
    return await relay(call, generation)


async def post_object(call: Any) -> Response:
    body = await read_body(call, requests.ObjectBody)
    return await relay(call, requests.object_request(body, stream_id=f"obj-{uuid.uuid4().hex}", **_ids(call)))
