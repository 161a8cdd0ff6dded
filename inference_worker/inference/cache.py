"""The cache of deterministic generations (temperature 0): the same model, messages and limits
(and tools) give the same answer, so the answer is kept in KV (which fails open: store/kv.py) and
replayed as a stream, its tool calls as they were.

An answer is kept for the caller that asked: a hit would tell another caller what was asked
before it. A deployment whose callers may see each other's prompts (one tenant, many keys)
shares the answers with GENERATION_CACHE_SCOPE = "shared"."""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared.contract import GenerationRequest, ToolCall
from shared.json_reader import parse_internal
from shared.workers_ai import Usage


def cache_key(req: GenerationRequest, shared: bool = False) -> str | None:
    """The KV key of the request's answer; None when it is not cached. `shared`: one key for
    every caller (GENERATION_CACHE_SCOPE = "shared"), else one per caller."""
    # A grounded answer depends on the caller's documents as they are now: never cached.
    if req.temperature != 0 or req.retrieval is not None:
        return None
    identity = {
        "caller": None if shared else req.caller.key_id,
        "kind": req.kind,
        "model": req.model,
        "messages": [m.model_dump() for m in req.messages],
        "max_tokens": req.max_tokens,
        "sampling": req.sampling.model_dump(exclude_none=True),
        "json_schema": req.json_schema,
    }
    if req.tools:  # an answer with tool calls is kept and replayed with them, ids and all
        identity |= {"tools": [t.model_dump() for t in req.tools], "tool_choice": req.tool_choice.model_dump(),
                     "parallel_tool_calls": req.parallel_tool_calls}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"generation:v2:{digest}"


def entry(model: str, text: str, used: Usage, tool_calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
    kept = {"model": model, "text": text, "usage": used.as_dict()}
    return kept | ({"tool_calls": [call.model_dump() for call in tool_calls]} if tool_calls else {})


def entry_calls(cached: dict[str, Any]) -> list[ToolCall]:
    return [ToolCall.model_validate(call) for call in cached.get("tool_calls", [])]


def entry_usage(cached: dict[str, Any]) -> Usage:
    return Usage(cached["usage"]["prompt_tokens"], cached["usage"]["completion_tokens"])


async def lookup(env: Any, key: str) -> dict[str, Any] | None:
    raw = await stores_of(env).cache.get(key)
    return parse_internal(raw, field="cached answer") if raw else None


async def store_quietly(env: Any, key: str, entry: dict[str, Any], request_id: str) -> None:
    try:
        await stores_of(env).cache.put(key, json.dumps(entry), settings_of(env).generation_cache_ttl_seconds)
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
