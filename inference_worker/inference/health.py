"""Checks every binding for real, concurrently, and reports each one's status and latency."""

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

from inference.settings import settings_of
from shared import __version__
from shared.contract import BindingStatus, HealthReport
from shared.runtime import runtime_name

SERVICE_NAME = "inference-service"
KV_PROBE_TTL_SECONDS = 60  # the shortest expiration KV accepts

# Per-isolate memo of the last AI probe: /health is public, and every AI call is billed.
_last_ai_probe: dict[str, Any] = {"at": None, "status": None}


async def _timed(check: Callable[[], Awaitable[None]]) -> BindingStatus:
    started = time.perf_counter()
    try:
        await check()
    except Exception as exc:  # a failing binding is a result here, not an error
        return BindingStatus(ok=False, latency_ms=_since(started), error=f"{type(exc).__name__}: {exc}")
    return BindingStatus(ok=True, latency_ms=_since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def _check_d1(env: Any) -> None:
    row = await env.DB.prepare("SELECT 1 AS ok").first()
    if row is None or row["ok"] != 1:
        raise RuntimeError(f"unexpected answer to SELECT 1: {row!r}")


async def _check_kv(env: Any, request_id: str) -> None:
    key = f"health:probe:{request_id}"
    await env.CACHE.put(key, request_id, expirationTtl=KV_PROBE_TTL_SECONDS)
    read = await env.CACHE.get(key)
    if read != request_id:
        raise RuntimeError(f"read back {read!r} after writing {request_id!r}")


async def _check_r2(env: Any) -> None:
    # A missing object answers None; any other outcome than an exception means R2 answered.
    await env.ARCHIVE.head("health/probe")


async def _check_analytics(env: Any, request_id: str) -> None:
    env.ANALYTICS.writeDataPoint({"indexes": ["health"], "blobs": ["health", request_id], "doubles": [1]})


async def _check_ai(env: Any, model: str) -> None:
    result = await env.AI.run(model, {"prompt": "ping", "max_tokens": 1})
    if "response" not in result:
        raise RuntimeError("model answered without a response field")


async def _check_ai_memoized(env: Any, model: str, ttl_seconds: float) -> BindingStatus:
    now = time.monotonic()
    at = _last_ai_probe["at"]
    if at is not None and now - at < ttl_seconds:
        return _last_ai_probe["status"]
    status = await _timed(lambda: _check_ai(env, model))
    _last_ai_probe.update(at=now, status=status)
    return status


async def check_bindings(env: Any, request_id: str) -> HealthReport:
    settings = settings_of(env)
    names = ["DB", "CACHE", "ARCHIVE", "ANALYTICS", "AI"]
    statuses = await asyncio.gather(
        _timed(lambda: _check_d1(env)),
        _timed(lambda: _check_kv(env, request_id)),
        _timed(lambda: _check_r2(env)),
        _timed(lambda: _check_analytics(env, request_id)),
        _check_ai_memoized(env, settings.default_model, settings.health_ai_probe_ttl_seconds),
    )
    bindings = dict(zip(names, statuses, strict=True))
    return HealthReport(
        service=SERVICE_NAME,
        version=__version__,
        python=platform.python_version(),
        runtime=runtime_name(),
        request_id=request_id,
        ok=all(status.ok for status in statuses),
        bindings=bindings,
    )
