"""KV as a cache that fails open: a read that fails is a miss and a write that fails is skipped,
so KV being down never fails a request that D1 and the model can answer. On top of it, the cache
of deterministic generations (temperature 0): the same model, messages and limits give the same
answer, so the answer is kept and replayed as a stream."""

import hashlib
import json
from typing import Any

from inference.settings import settings_of
from shared.contract import GenerationRequest
from shared.workers_ai import Usage


def cache_key(req: GenerationRequest) -> str | None:
    if req.temperature != 0:
        return None
    identity = {
        "kind": req.kind,
        "model": req.model,
        "messages": [m.model_dump() for m in req.messages],
        "max_tokens": req.max_tokens,
        "json_schema": req.json_schema,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"generation:v1:{digest}"


def entry(model: str, text: str, used: Usage) -> dict[str, Any]:
    return {"model": model, "text": text, "usage": used.as_dict()}


def entry_usage(cached: dict[str, Any]) -> Usage:
    return Usage(cached["usage"]["prompt_tokens"], cached["usage"]["completion_tokens"])


async def read_cached(env: Any, key: str) -> str | None:
    try:
        return await env.CACHE.get(key)
    except Exception as exc:
        print(f"KV read failed, treated as a cache miss: {exc}")
        return None


async def write_cached(env: Any, key: str, text: str, ttl: int) -> None:
    try:
        await env.CACHE.put(key, text, expirationTtl=ttl)
    except Exception as exc:
        print(f"KV write failed, answer not cached: {exc}")


async def lookup(env: Any, key: str) -> dict[str, Any] | None:
    raw = await read_cached(env, key)
    return json.loads(raw) if raw else None


async def store(env: Any, key: str, entry: dict[str, Any]) -> None:
    await write_cached(env, key, json.dumps(entry), settings_of(env).generation_cache_ttl_seconds)


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
