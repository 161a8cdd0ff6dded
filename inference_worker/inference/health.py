"""Checks every binding for real, concurrently, and reports each one's status and latency, and
each external provider's circuit as this isolate sees it."""

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

from inference import ai_client
from inference.settings import settings_of
from inference.store import stores_of
from shared import __version__, clock
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


# Per isolate: the last deep check's status of each binding the public check does not probe.
_last_deep: dict[str, BindingStatus] = {}


async def check_bindings(env: Any, request_id: str, deep: bool = False) -> HealthReport:
    """Every binding, concurrently. The public check (`deep` False) only reads: D1, KV, R2 and
    Vectorize answer a read; Analytics Engine (a write) and Workers AI (a billed call) show the
    last deep check's result. The deep check (the admin's) writes a KV key and an Analytics
    Engine point and makes a 1-token model call (at most once per HEALTH_AI_PROBE_TTL_SECONDS)."""
    settings = settings_of(env)
    stores = stores_of(env)

    async def write_point() -> None:
        stores.telemetry.probe(request_id)

    checks: dict[str, Awaitable[BindingStatus]] = {
        "DB": _timed(stores.db.ping),
        "CACHE": _timed(lambda: stores.cache.probe(request_id, KV_PROBE_TTL_SECONDS)) if deep else _timed(stores.cache.read_probe),
        "ARCHIVE": _timed(stores.archive.probe),
    }
    if deep:
        checks["ANALYTICS"] = _timed(write_point)
        checks["AI"] = _check_ai_memoized(env, settings.default_model, settings.health_ai_probe_ttl_seconds)
    if stores.vectors is not None:  # documents are optional: a deployment without an index has none
        checks["VECTORS"] = _timed(stores.vectors.probe)
    bindings = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    if deep:
        _last_deep.update(ANALYTICS=bindings["ANALYTICS"], AI=bindings["AI"])
    else:
        for name in ("ANALYTICS", "AI"):
            bindings[name] = _last_deep.get(name, BindingStatus(ok=True, latency_ms=0, checked=False)).model_copy(
                update={"checked": False})
    return HealthReport(
        service=SERVICE_NAME,
        version=__version__,
        python=platform.python_version(),
        runtime=runtime_name(),
        request_id=request_id,
        ok=all(status.ok for status in bindings.values()),
        bindings=bindings,
        providers=ai_client.provider_circuits(env).shown(clock.monotonic()),
    )
