"""The isolate's tally of its work calls' times (shared/rpc_latency.py), written to D1 in the
call's waitUntil once a flush is due: no call waits for a write, and a write that fails is
logged and its counts dropped (latency metrics are a view, never a caller's data)."""

import asyncio
from typing import Any

from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared import clock
from shared.contract import WorkRequest
from shared.rpc_latency import LatencyTally

tally = LatencyTally()


def count(env: Any, ctx: Any, method: str, arguments: tuple[Any, ...], ms: float) -> None:
    """Counts a work call (one whose first argument is a caller's request) and flushes when due."""
    if not arguments or not isinstance(arguments[0], WorkRequest):
        return
    now_ms = clock.now() * 1000
    tally.flush_interval_ms = settings_of(env).rpc_latency_flush_seconds * 1000
    tally.add(arguments[0].caller.key_id, method, ms, now_ms)
    if tally.due(now_ms):
        ctx.waitUntil(asyncio.ensure_future(_flush(env, tally.drain(now_ms))))


async def _flush(env: Any, rows: list[tuple[int, str, str, int, int]]) -> None:
    try:
        await stores_of(env).db.add_rpc_latency(rows)
    except Exception as exc:
        log(f"rpc latency counts dropped ({len(rows)} cells): {type(exc).__name__}: {exc}")
