"""Checks every binding for real, concurrently, and reports each one's status and latency."""

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

from inference import ai_client
from inference.settings import settings_of
from inference.store import stores_of
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


async def _check_ai_memoized(env: Any, model: str, ttl_seconds: float) -> BindingStatus:
    now = time.monotonic()
    at = _last_ai_probe["at"]
    if at is not None and now - at < ttl_seconds:
        return _last_ai_probe["status"]
    status = await _timed(lambda: ai_client.probe(env, model))
    _last_ai_probe.update(at=now, status=status)
    return status


async def check_bindings(env: Any, request_id: str) -> HealthReport:
    settings = settings_of(env)
    names = ["DB", "CACHE", "ARCHIVE", "ANALYTICS", "AI"]
    stores = stores_of(env)

    async def write_point() -> None:
        stores.telemetry.probe(request_id)

    statuses = await asyncio.gather(
        _timed(stores.db.ping),
        _timed(lambda: stores.cache.probe(request_id, KV_PROBE_TTL_SECONDS)),
        _timed(stores.archive.probe),
        _timed(write_point),
        _check_ai_memoized(env, settings.default_model, settings.health_ai_probe_ttl_seconds),
    )
    bindings = dict(zip(names, statuses, strict=True))
    if stores.vectors is not None:  # documents are optional: a deployment without an index has none
        bindings["VECTORS"] = await _timed(stores.vectors.probe)
        statuses = [*statuses, bindings["VECTORS"]]
    return HealthReport(
        service=SERVICE_NAME,
        version=__version__,
        python=platform.python_version(),
        runtime=runtime_name(),
        request_id=request_id,
        ok=all(status.ok for status in statuses),
        bindings=bindings,
    )
