"""Model calls' usage, written after their answers in batches: per isolate, a key's counter update
and the calls' D1 rows wait up to USAGE_FLUSH_MS, then go out together (one counter call a key,
one D1 transaction for every call) in the waitUntil of the call that recorded first.

A counter call is the dearest part of a chat's end (a Durable Object invocation, docs/benchmarks.md),
and an answer's end need not wait for it: so the key's next admission from this isolate carries
what its earlier calls used (`carried_by`), and the counter applies it before it counts (inference/
counter.py). A caller's next request through the same isolate finds its earlier reservations
settled and its usage counted, exactly; one through another isolate may find an earlier
reservation still held for up to USAGE_FLUSH_MS (it is refused early, never admitted past a
limit). Reads of usage, metrics and alerts flush this isolate's batch first (`flushed`).

Only where the key's counter is bound: without it, D1 holds the reservations and a call's record
frees its own at once (inference/usage.py)."""

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inference import alerts
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from inference.store.records import ModelCallRecord
from shared import clock
from shared.contract import Caller

# A batch is written at once when it holds this many calls: a bound on what an isolate keeps.
MAX_PENDING_CALLS = 200

# The ctx of the RPC call running (set by inference_worker/entry.py): the flush is left to its waitUntil.
call_ctx: ContextVar[Any] = ContextVar("call_ctx", default=None)


@contextmanager
def for_call(ctx: Any) -> Iterator[None]:
    token = call_ctx.set(ctx)
    try:
        yield
    finally:
        call_ctx.reset(token)


@dataclass
class KeyUsage:
    """What one key's calls of one day used, not yet added to its counter, and the reservations they free."""

    caller: Caller
    day: str
    period_start: str  # the first day of the key's budget period (shared/policy.py), for its totals
    delta: dict[str, float] = field(default_factory=dict)
    settles: list[str] = field(default_factory=list)

    def add(self, delta: dict[str, float], settles: list[str]) -> None:
        for name, value in delta.items():
            if value:
                self.delta[name] = self.delta.get(name, 0) + value
        self.settles += settles

    def spent(self) -> bool:
        """Whether it used anything an alert watches (tokens or money)."""
        return any(self.delta.get(name) for name in ("prompt_tokens", "completion_tokens", "cost_usd"))

    def as_carried(self) -> dict[str, Any]:
        """As an admission carries it to the counter (inference/counter.py: `carried`)."""
        return {"day": self.day, "delta": self.delta, "settles": self.settles, "period_start": self.period_start}


class PendingUsage:
    """The isolate's batch: the keys' usage for their counters, the calls for D1."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], KeyUsage] = {}  # (key id, day) -> its usage
        self.calls: list[tuple[ModelCallRecord, datetime]] = []  # each call, and when it was recorded (its D1 rows' day and time)
        self.flush_scheduled = False

    def keep(self, call: ModelCallRecord, delta: dict[str, float], settles: list[str], day: str, period_start: str,
             at: datetime) -> None:
        usage = self.keys.setdefault((call.caller.key_id, day), KeyUsage(call.caller, day, period_start))
        usage.add(delta, settles)
        self.calls.append((call, at))

    def take(self, key_id: str, day: str) -> KeyUsage | None:
        """The key's usage of `day` for an admission to carry, out of the batch."""
        return self.keys.pop((key_id, day), None)

    def put_back(self, usage: KeyUsage) -> None:
        """Usage an admission took and did not deliver: the batch writes it."""
        kept = self.keys.setdefault((usage.caller.key_id, usage.day), usage)
        if kept is not usage:
            kept.add(usage.delta, usage.settles)

    def drain(self) -> tuple[list[KeyUsage], list[tuple[ModelCallRecord, datetime]]]:
        keys, calls = list(self.keys.values()), self.calls
        self.keys, self.calls, self.flush_scheduled = {}, [], False
        return keys, calls

    def empty(self) -> bool:
        return not self.keys and not self.calls


pending = PendingUsage()


async def keep(env: Any, call: ModelCallRecord, delta: dict[str, float], settles: list[str], day: str, period_start: str,
               at: datetime | None = None) -> None:
    """Adds a call to the batch; the first call of a batch schedules its flush."""
    pending.keep(call, delta, settles, day, period_start, at or datetime.fromtimestamp(clock.now(), UTC))
    await _schedule(env)


async def _schedule(env: Any) -> None:
    delay_s = settings_of(env).usage_flush_ms / 1000
    ctx = call_ctx.get()
    if delay_s <= 0 or ctx is None or len(pending.calls) >= MAX_PENDING_CALLS:
        await flush(env)  # nothing to leave it to, or no wait wanted, or the batch is full
        return
    if not pending.flush_scheduled:
        pending.flush_scheduled = True
        ctx.waitUntil(asyncio.ensure_future(_flush_after(env, delay_s)))


async def _flush_after(env: Any, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await flush(env)


async def flush(env: Any) -> None:
    """Writes the batch: each key's usage to its counter (then its alerts), every call's rows to D1
    in one transaction. A write that fails is logged (its reservations expire in the counter)."""
    keys, calls = pending.drain()
    stores = stores_of(env)
    counters = stores.counters  # bound: only a deployment with the key's counter batches (inference/usage.py)
    for usage in keys:
        try:
            if counters is None:
                raise LookupError("no KEY_COUNTER binding")
            totals = await counters.add(usage.caller.key_id, usage.day, settles=usage.settles, period_start=usage.period_start,
                                        **usage.delta)
            if usage.spent():
                await alerts.raise_due(env, usage.caller, usage.day, totals)
        except Exception as exc:
            log(f"usage of {usage.caller.key_id} not counted ({len(usage.settles)} requests): {type(exc).__name__}: {exc}")
    if calls:
        try:
            await stores.db.record_calls(calls)
        except Exception as exc:
            log(f"{len(calls)} model call records not written: {type(exc).__name__}: {exc}")


async def flushed(env: Any) -> None:
    """Before a read of usage, metrics or alerts: this isolate's batch is written."""
    if not pending.empty():
        await flush(env)


async def carried_by(env: Any, key_id: str, day: str,
                     send: Callable[[dict[str, Any] | None], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Sends a call to the key's counter (`send`) carrying the key's pending usage of `day`, if
    any; the counter's answer. Usage the counter did not apply (the call failed, or was the
    same admission sent again, answered as before) goes back into the batch."""
    usage = pending.take(key_id, day)
    if usage is None:
        return await send(None)
    try:
        answer = await send(usage.as_carried())
    except BaseException:
        await _put_back(env, usage)
        raise
    if (totals := answer.get("totals")) is None:
        await _put_back(env, usage)
    elif usage.spent():
        await _alerts_later(env, usage, totals)
    return answer


async def _put_back(env: Any, usage: KeyUsage) -> None:
    pending.put_back(usage)
    await _schedule(env)


async def _alerts_later(env: Any, usage: KeyUsage, totals: dict[str, Any]) -> None:
    """The alerts the carried usage reached, written after the admission's answer (none, mostly)."""
    if not (due := alerts.due(env, usage.caller, usage.day, totals)):
        return

    async def write() -> None:
        try:
            await alerts.write(env, usage.caller, due)
        except Exception as exc:
            log(f"alerts of {usage.caller.key_id} not written: {type(exc).__name__}: {exc}")

    if (ctx := call_ctx.get()) is None:
        await write()
    else:
        ctx.waitUntil(asyncio.ensure_future(write()))
