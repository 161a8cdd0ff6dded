"""Text embeddings from Workers AI, with usage recorded like generations."""

import time
from typing import Any

from inference import usage
from inference.models import GenerationFailed, RetryPolicy, run_once
from inference.settings import settings_of
from shared.contract import EmbeddingRequest, EmbeddingResult
from shared.workers_ai import Usage


async def embed(env: Any, req: EmbeddingRequest) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        model, answer = await run_once(env, [req.model], {"text": req.texts}, RetryPolicy.of(settings_of(env)))
    except GenerationFailed as failed:
        return {"failure": failed.failure.model_dump(mode="json")}
    # Workers AI reports no usage for embeddings: count about four characters a token.
    used = Usage(prompt_tokens=sum(max(1, len(t) // 4) for t in req.texts))
    latency = (time.perf_counter() - started) * 1000
    await usage.record_quietly(env, usage.CallRecord(req.caller, model, "embedding", "ok", used, latency, latency), req.request_id)
    vectors = [list(vector) for vector in answer["data"]]
    return EmbeddingResult(model=model, vectors=vectors, usage=used.as_dict()).model_dump(mode="json")
