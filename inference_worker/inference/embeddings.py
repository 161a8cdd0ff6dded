"""Text embeddings from Workers AI, with usage recorded like generations."""

from typing import Any

from inference import admission
from inference.ai_client import RetryPolicy, run_once
from inference.settings import settings_of
from inference.usage import Meter, embedding_reservation, embedding_tokens
from shared.contract import EmbeddingRequest, EmbeddingResult
from shared.routing import WORKERS_AI
from shared.workers_ai import Usage


async def embed(env: Any, ctx: Any, req: EmbeddingRequest) -> EmbeddingResult:
    await admission.admitted(env, ctx, req.admission, req.caller, embedding_reservation(env, req.request_id, req.model, req.texts))
    meter = Meter.of(env, req, "embedding")
    async with meter.settled_if_unrecorded():
        _, model, answer = await run_once(env, [(WORKERS_AI, req.model)], {"text": req.texts}, RetryPolicy.of(settings_of(env)),
                                          vectors_json=req.vectors_as_json, recorder=meter)
        used = Usage(prompt_tokens=embedding_tokens(req.texts))
        await meter.done(model, "ok", used)
    if req.vectors_as_json:
        return EmbeddingResult(model=model, vectors_json=answer, usage=used.as_dict())
    return EmbeddingResult(model=model, vectors=[list(vector) for vector in answer["data"]], usage=used.as_dict())
