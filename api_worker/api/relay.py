"""A streamed generation, from the inference service to the client: the api worker checks the
model, asks for the stream, and passes its body through without reading it (the AI SDK routes
and OpenAI's streamed chat completions share this)."""

from workers import Response

from api.auth import check_model_allowed
from api.call import Call
from shared.contract import GenerationRequest
from shared.streams import PROTOCOL_HEADERS


async def relay(call: Call, generation: GenerationRequest) -> Response:
    check_model_allowed(call, generation.model)
    result = await call.inference.stream_generation(generation)
    headers = {**PROTOCOL_HEADERS[generation.protocol], "x-request-id": call.request_id}
    for name in ("x-model", "x-provider", "x-cache"):
        if value := result.headers.get(name):
            headers[name] = value
    return Response(result.body, headers=headers)
