"""The OpenAI-compatible routes under /v1: chat completions, responses and legacy completions
(streamed or not), embeddings and the models, in OpenAI's shapes, so any OpenAI client works with only its base URL changed."""

import base64
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

from api import bodies
from api.admission import check_model_allowed
from api.cache_headers import cache_control
from api.call import RequestContext
from api.relay import relay
from api.runtime import Response
from shared.contract import GenerationRequest, GenerationResult
from shared.embeddings import embedding_list_json
from shared.errors import ApiError, ErrorCode
from shared.models import ALL_MODELS, CATALOG, DEFAULT_TEXT_MODEL, ModelInfo, UnknownModel, resolve
from shared.responses import response_object, response_usage, whole_output


def answer_headers(result: GenerationResult) -> dict[str, str]:
    """What a whole answer says of itself, as a streamed one's relay does (api/relay.py)."""
    score = {"x-cache-score": str(result.cache_score)} if result.cache_score is not None else {}
    return {"x-model": result.model, "x-provider": result.provider, "x-cache": result.cache, **score}


def assistant_message(result: GenerationResult) -> dict[str, Any]:
    """The answer as OpenAI's assistant message: its calls, if it made any (content null if it said nothing)."""
    if not result.tool_calls:
        return {"role": "assistant", "content": result.text, "refusal": None}
    calls = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in result.tool_calls]
    return {"role": "assistant", "content": result.text or None, "refusal": None, "tool_calls": calls}


def chat_completion(result: GenerationResult, completion_id: str, created: int) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": result.model,
        "choices": [{
            "index": 0,
            "message": assistant_message(result),
            "logprobs": None,
            "finish_reason": result.finish_reason,
        }],
        "usage": result.usage,
        # Not OpenAI's: the passages a retrieval grounded the answer in (clients ignore it).
        **({"sources": [source.model_dump() for source in result.sources]} if result.sources else {}),
    }


async def _answered(call: RequestContext, generation: GenerationRequest,
                    shaped: Callable[[GenerationResult, str, int], dict[str, Any]]) -> Response:
    """A generation streamed (relayed as it comes) or answered whole, in OpenAI's `shaped` object."""
    if generation.protocol:
        return await relay(call, generation)
    check_model_allowed(call, generation.model)
    generation = generation.model_copy(update={"cache": cache_control(call.headers.get)})
    result = await call.inference.generate(generation, call.admission)
    return call.json(shaped(result, generation.stream_id, int(time.time())), headers=answer_headers(result))


async def post_chat_completions(call: RequestContext) -> Response:
    body = await bodies.read_body(call.request, bodies.OpenAIChatBody)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    generation = bodies.openai_chat_request(body, caller=call.caller, request_id=call.request_id,
                                              stream_id=completion_id, default_model=call.default_model)
    return await _answered(call, generation, chat_completion)


def text_completion(result: GenerationResult, completion_id: str, created: int) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": result.model,
        "choices": [{"index": 0, "text": result.text, "logprobs": None, "finish_reason": result.finish_reason}],
        "usage": result.usage,
    }


async def post_completions(call: RequestContext) -> Response:
    """OpenAI's legacy completions: the prompt answered by the same generation as /stream/completion."""
    body = await bodies.read_body(call.request, bodies.OpenAICompletionBody)
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    generation = bodies.openai_completion_request(body, caller=call.caller, request_id=call.request_id,
                                                  stream_id=completion_id, default_model=call.default_model)
    return await _answered(call, generation, text_completion)


def response(result: GenerationResult, response_id: str, created: int) -> dict[str, Any]:
    """The answer as OpenAI's Responses object: its text as a message item, then its calls."""
    usage = response_usage(result.usage.get("prompt_tokens", 0), result.usage.get("completion_tokens", 0))
    return response_object(response_id, result.model, created, whole_output(response_id, result.text, result.tool_calls),
                           status="completed", usage=usage, finish_reason=result.finish_reason)


async def post_responses(call: RequestContext) -> Response:
    """OpenAI's Responses API, stateless: the same generation as chat completions, in its shapes."""
    body = await bodies.read_body(call.request, bodies.OpenAIResponsesBody)
    response_id = f"resp_{uuid.uuid4().hex}"
    generation = bodies.openai_responses_request(body, caller=call.caller, request_id=call.request_id,
                                                 stream_id=response_id, default_model=call.default_model)
    return await _answered(call, generation, response)


def encode_embedding(vector: list[float], encoding_format: str) -> list[float] | str:
    """OpenAI's base64 form is the little-endian float32 bytes (what its SDK asks for)."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


async def post_embeddings(call: RequestContext) -> Response:
    body = await bodies.read_body(call.request, bodies.EmbeddingsBody)
    embedding = bodies.embedding_request(body, caller=call.caller, request_id=call.request_id)
    check_model_allowed(call, embedding.model)
    result = await call.inference.embed(embedding, call.admission)
    if result.vectors_json is not None:
        return call.json_text(embedding_list_json(result.vectors_json, result.model, result.usage))
    return call.json({
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode_embedding(v, body.encoding_format)}
            for i, v in enumerate(result.vectors)
        ],
        "model": result.model,
        "usage": {"prompt_tokens": result.usage["prompt_tokens"], "total_tokens": result.usage["total_tokens"]},
    })


def model_object(m: ModelInfo) -> dict[str, Any]:
    # `pricing` and `capabilities` are not OpenAI's (clients ignore what they do not know):
    # US dollars per million tokens, and what a text model can do (shared/models.py).
    return {"id": m.id, "object": "model", "created": 0, "owned_by": m.owned_by,
            "pricing": {"input": m.input_price, "output": m.output_price},
            **({"capabilities": m.capabilities.as_dict(m.context_window)} if m.task == "text-generation" else {})}


async def get_models(call: RequestContext) -> Response:
    return call.json({"object": "list", "data": [model_object(m) for m in ALL_MODELS]})


async def get_model(call: RequestContext) -> Response:
    """One model of the catalog, by its id or an alias (answered with its id)."""
    name = call.path_params["model"]
    try:
        model = resolve(name, CATALOG, DEFAULT_TEXT_MODEL)
    except UnknownModel as exc:
        raise ApiError(ErrorCode.MODEL_NOT_FOUND, str(exc), status=404,
                       field="model", valid=exc.valid) from exc
    return call.json(model_object(CATALOG[model]))
