"""A streamed generation, from the inference service to the client: the api worker checks the
model, asks for the stream, and passes its body through without reading it (the AI SDK routes
and OpenAI's streamed chat completions and completions share this). The body goes through an
identity stream (the runtime's, no Python a chunk) whose end the request's log line waits for,
so that it says how long the whole answer took, not only its headers (api/app.py)."""

from api.admission import check_model_allowed
from api.cache_headers import cache_control
from api.call import RequestContext
from api.runtime import Passage, Response
from shared.contract import GenerationRequest
from shared.streams import PROTOCOL_HEADERS


async def relay(call: RequestContext, generation: GenerationRequest) -> Response:
    check_model_allowed(call, generation.model)
    generation = generation.model_copy(update={"cache": cache_control(call.headers.get)})
    result = await call.inference.stream_generation(generation, call.admission)
    headers = {**PROTOCOL_HEADERS[generation.protocol], "x-request-id": call.request_id}
    for name in ("x-model", "x-provider", "x-cache", "x-cache-score"):
        if value := result.headers.get(name):
            headers[name] = value
    passage = Passage.new()
    # Settles when the answer has ended, or rejects when it ended abnormally or the client went
    # away (the cancellation reaches the service's stream through the pipe, as before).
    call.stream_end = result.body.pipeTo(passage.writable)
    return Response(passage.readable, headers=headers)
