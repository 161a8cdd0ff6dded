"""The cache of deterministic generations (temperature 0): the same model, messages and limits
(and tools, and images, by their bytes) give the same answer, so the answer is kept and replayed
as a stream, its tool calls as they were. It is kept in KV and, in front of it, in the data
center's Cache API (store/edge.py), both failing open: a cache that cannot be read is a miss.

An answer is kept in the caller's scope (inference/cache_scopes.py): its own, unless the admin
put it in a pool of callers who share their answers, since a hit would tell another caller what
was asked before it. The caller can skip the cache (x-cache-skip) and say how long its answer is
kept (x-cache-ttl): the request's CacheControl."""

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared import clock
from shared.contract import GenerationRequest, ToolCall
from shared.json_reader import parse_internal
from shared.workers_ai import Usage


def cache_key(req: GenerationRequest, scope: str) -> str | None:
    """The key of the request's answer in `scope` (CacheScopes.scope_of the caller); None when
    it is not cached."""
    # A grounded answer depends on the caller's documents as they are now: never cached.
    if req.cache.skip or req.temperature != 0 or req.retrieval is not None:
        return None
    return f"generation:v3:{digest({'scope': scope, **answer_identity(req)})}"


def answer_identity(req: GenerationRequest) -> dict[str, Any]:
    """Everything the answer depends on, the messages (and their images) included."""
    identity = {
        "kind": req.kind,
        "model": req.model,
        "messages": [m.model_dump(exclude={"images": {"__all__": {"field"}}}) for m in req.messages],
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
        "sampling": req.sampling.model_dump(exclude_none=True),
        "json_schema": req.json_schema,
    }
    if req.tools:  # an answer with tool calls is kept and replayed with them, ids and all
        identity |= {"tools": [t.model_dump() for t in req.tools], "tool_choice": req.tool_choice.model_dump(),
                     "parallel_tool_calls": req.parallel_tool_calls}
    return identity


def digest(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def ttl_seconds(env: Any, req: GenerationRequest) -> int:
    return req.cache.ttl_seconds or settings_of(env).generation_cache_ttl_seconds


def entry(model: str, text: str, used: Usage, tool_calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
    kept = {"model": model, "text": text, "usage": used.as_dict()}
    return kept | ({"tool_calls": [call.model_dump() for call in tool_calls]} if tool_calls else {})


def entry_calls(cached: dict[str, Any]) -> list[ToolCall]:
    return [ToolCall.model_validate(call) for call in cached.get("tool_calls", [])]


def entry_usage(cached: dict[str, Any]) -> Usage:
    return Usage(cached["usage"]["prompt_tokens"], cached["usage"]["completion_tokens"])


async def lookup(env: Any, key: str) -> dict[str, Any] | None:
    """The answer kept under `key`: the data center's copy, else KV's (then copied to the data
    center for the rest of its life). None once its TTL has passed, wherever a copy lingers."""
    stores = stores_of(env)
    edge = stores.edge if settings_of(env).generation_cache_edge else None
    raw = await edge.get(key) if edge else None
    from_kv = raw is None
    if from_kv:
        raw = await stores.cache.get(key)
    if not raw:
        return None
    kept: dict[str, Any] = parse_internal(raw, field="cached answer")
    left = kept.get("expires_at", 0) - clock.now()
    if left <= 0:
        return None
    if from_kv and edge:
        await edge.put(key, raw, math.ceil(left))
    return kept


async def store_quietly(env: Any, key: str, entry: dict[str, Any], request_id: str, ttl: int) -> None:
    """Keeps the answer for `ttl` seconds in KV and the data center's Cache API."""
    stores, text = stores_of(env), json.dumps(entry | {"expires_at": clock.now() + ttl})
    try:
        await stores.cache.put(key, text, ttl)
        if settings_of(env).generation_cache_edge and stores.edge:
            await stores.edge.put(key, text, ttl)
    except Exception as exc:  # the answer was delivered; only the next identical request pays
        log(f"cache store failed for request {request_id}: {exc}")


def replay_pieces(text: str) -> list[str]:
    """Word-sized pieces, so a replayed answer streams like a generated one."""
    pieces, start = [], 0
    for index in range(1, len(text)):
        if text[index].isspace() and not text[index - 1].isspace():
            pieces.append(text[start:index])
            start = index
    if text:
        pieces.append(text[start:])
    return pieces
