"""Text embeddings from Workers AI, with usage recorded like generations: asked for by a caller
(/v1/embeddings), or by the service itself for a caller (its documents' passages and searches,
the semantic cache's questions) with the index's model."""

from typing import Any

from inference import admission
from inference.ai_client import RetryPolicy, run_once
from inference.settings import settings_of
from inference.usage import Meter, embedding_reservation, embedding_tokens
from shared.contract import Caller, EmbeddingRequest, EmbeddingResult, ServiceFailed
from shared.embeddings import vector_texts
from shared.models import DEFAULT_EMBEDDING_MODEL
from shared.routing import WORKERS_AI
from shared.workers_ai import Usage

# The index's model: its dimensions (768) are the Vectorize index's (README: wrangler vectorize create).
EMBEDDING_MODEL = DEFAULT_EMBEDDING_MODEL


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


async def embed_texts(env: Any, caller: Caller, texts: list[str], request_id: str, backend: str | None = None,
                      as_text: bool = False) -> list[list[float]] | list[str]:
    """Vectors for `texts` by the index's model, the call recorded (and priced) like any model
    call; `as_text`: each vector's numbers as the runtime wrote them (shared/embeddings.py), for an upsert."""
    meter = Meter(env, caller, "embedding", request_id, backend)
    try:
        _, model, answer = await run_once(env, [(WORKERS_AI, EMBEDDING_MODEL)], {"text": texts}, RetryPolicy.of(settings_of(env)),
                                          vectors_json=as_text, recorder=meter)
    except ServiceFailed:
        await meter.done(EMBEDDING_MODEL, "failed")
        raise
    await meter.done(model, "ok", Usage(prompt_tokens=embedding_tokens(texts)))
    return vector_texts(answer) if as_text else [list(vector) for vector in answer["data"]]
