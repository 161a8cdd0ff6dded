"""A generation's caches asked in turn: the exact cache (inference/cache.py), then the semantic
one (inference/semantic_cache.py); what was found, and where an answer generated instead is kept."""

from dataclasses import dataclass
from typing import Any

from inference import cache, semantic_cache
from inference.settings import settings_of
from shared.contract import CacheState, GenerationRequest


@dataclass
class CacheLookup:
    key: str | None  # the exact cache's key; None when the request is not cached exactly
    similar: semantic_cache.SemanticLookup | None  # None when not the semantic cache's
    entry: dict[str, Any] | None = None  # the answer found
    state: CacheState = "bypass"
    score: float | None = None  # a semantic hit's similarity

    async def remember(self, env: Any, req: GenerationRequest, entry: dict[str, Any]) -> None:
        """Keeps a generated answer in each cache that was asked."""
        ttl = cache.ttl_seconds(env, req)
        if self.key:
            await cache.store_quietly(env, self.key, entry, req.request_id, ttl)
        if self.similar:
            await semantic_cache.remember(env, req, self.similar, entry, ttl)


async def find(env: Any, req: GenerationRequest) -> CacheLookup:
    key = cache.cache_key(req, settings_of(env).generation_cache_scopes.scope_of(req.caller))
    if key and (entry := await cache.lookup(env, key)):
        return CacheLookup(key, None, entry, "hit")
    similar = await semantic_cache.lookup(env, req)
    if similar and similar.entry:
        return CacheLookup(key, similar, similar.entry, "semantic", similar.score)
    return CacheLookup(key, similar, state="miss" if key or similar else "bypass")
