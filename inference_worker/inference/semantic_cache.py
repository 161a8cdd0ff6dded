"""The semantic cache, for the callers SEMANTIC_CACHE names: a single-turn question close enough
in meaning (cosine similarity of embeddings, at least SEMANTIC_CACHE_THRESHOLD) to one the same
caller asked before, of the same model with the same options and system prompt, is answered with
that question's answer. Each caller's questions are vectors in a Vectorize namespace of its own,
whatever GENERATION_CACHE_SCOPE shares: one caller never learns what another asked. Their
answers are kept like the exact cache's (inference/cache.py), under the question's id.

A question costs an embedding (recorded as the caller's, like a retrieval's) and a Vectorize
query; its answer, when generated, one upsert. A cache that fails is a miss."""

import hashlib
from dataclasses import dataclass
from typing import Any

from inference import cache
from inference.embeddings import embed_texts
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared.contract import Caller, GenerationRequest
from shared.json_reader import parse_internal

ANSWER_PREFIX = "semantic:v1:"
# Vectorize indexes the first 64 bytes of a metadata string: the options' digest fits in them.
OPTIONS_DIGEST_CHARS = 32


def question(req: GenerationRequest) -> str | None:
    """The request's one question when it is single-turn (a user message, after a system prompt
    or not; no tools, images or retrieval), else None."""
    if req.cache.skip or req.retrieval is not None or req.tools:
        return None
    *before, last = req.messages
    if last.role != "user" or last.images or not last.content.strip() or any(m.role != "system" for m in before):
        return None
    return last.content


def options_digest(req: GenerationRequest) -> str:
    """What the answer depends on besides the question: the model, its options, the system prompt."""
    identity = cache.answer_identity(req)
    return cache.digest(identity | {"messages": identity["messages"][:-1]})[:OPTIONS_DIGEST_CHARS]


def namespace(caller: Caller) -> str:
    """The caller's own namespace, apart from its documents' (a key id is a namespace; this is not one)."""
    return "semantic-" + hashlib.sha256(caller.key_id.encode()).hexdigest()[:40]


@dataclass
class SemanticLookup:
    """A question looked up: its id (its vector's, 64 hex digits), its options, its vector's
    numbers as JSON text (None if it could not be embedded) and, on a hit, the answer found and
    its question's similarity."""

    question_id: str
    options: str
    vector: str | None = None
    entry: dict[str, Any] | None = None
    score: float | None = None


async def lookup(env: Any, req: GenerationRequest) -> SemanticLookup | None:
    """None when the request is not the semantic cache's (its caller not named, or not single-turn)."""
    settings, stores = settings_of(env), stores_of(env)
    text = question(req)
    if text is None or not settings.semantic_cache.holds(req.caller) or stores.vectors is None:
        return None
    found = SemanticLookup(cache.digest({"caller": req.caller.key_id, **cache.answer_identity(req)}), options_digest(req))
    try:
        [vector] = await embed_texts(env, req.caller, [text], req.request_id, req.backend, as_text=True)
        found.vector = str(vector)
        values = parse_internal(f"[{vector}]", field="question vector")
        matches = await stores.vectors.query(namespace(req.caller), values, 1, where={"options": found.options})
    except Exception as exc:
        log(f"semantic cache lookup failed for request {req.request_id}, a miss: {exc}")
        return found
    best = matches[0] if matches else None
    if best and best["score"] >= settings.semantic_cache_threshold and (best.get("metadata") or {}).get("options") == found.options:
        if entry := await cache.lookup(env, ANSWER_PREFIX + best["id"]):
            found.entry, found.score = entry, round(float(best["score"]), 4)
    return found


async def remember(env: Any, req: GenerationRequest, found: SemanticLookup, entry: dict[str, Any], ttl: int) -> None:
    """Keeps the answer to the question looked up, and the question's vector to find it by."""
    vectors = stores_of(env).vectors
    if found.vector is None or vectors is None:
        return
    await cache.store_quietly(env, ANSWER_PREFIX + found.question_id, entry, req.request_id, ttl)
    try:
        await vectors.upsert(namespace(req.caller), [(found.question_id, found.vector, {"options": found.options})])
    except Exception as exc:  # the answer was delivered; only the next similar question pays
        log(f"semantic cache store failed for request {req.request_id}: {exc}")
