"""Who may proceed: API key verification, the per-minute rate limit and the daily quotas, in
one call per request (`admit`), or in the work call that carries the request's admission
(`admitted`); the reservations of the day's quotas a request holds while it works
(`reserve`, `settle`).

Verified keys are remembered per isolate for KEY_CACHE_SECONDS (default 30): a revocation
takes effect at once in the isolate that revoked the key (inference/access.py), and within that
bound elsewhere.

The rate limit is a fixed one-minute window, counted by the key's Durable Object
(inference/counter.py: one object per key, one request at a time, so every request sees the
exact count from any isolate or location, and D1 takes no write per request), or, where none is
bound, in D1 (`rate_windows`, one primary: exact too). KV would be eventually consistent and
the Rate Limiting binding per location, with no remaining count to report. A fixed window lets
a client spend up to twice its limit across a window boundary. A request may take more than its
own slot of its window (AdmissionRequest.reserve): the api admits the caller's next reads and
event batches from them (shared/leases.py says what that trades). A request reserves its worst
case of the day's quotas as it is admitted (or, admitted before, as its work starts), and settles
it with what it spent (shared/reservations.py): the counter (or D1) holds reservations only while
the quotas are open, so concurrency passes a quota by one request's worth at most.

An admission answers the caller's limits (its tier's, with the deployment's TIER_* vars), so the
api needs no tier table of its own; and leaves its window to the RPC call it belongs to
(`admission_of_call`), which sends it to the api for the response's headers."""

import asyncio
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from inference.settings import settings_of
from inference.store import stores_of
from inference.store.d1 import day_of
from shared import clock
from shared.contract import AdmissionRequest, AdmissionResult, Caller, RateWindow, ServiceFailed, ServiceFailure
from shared.errors import ErrorCode
from shared.expiring import MISSING, ExpiringMap
from shared.leases import WINDOW_SECONDS
from shared.reservations import Quotas, Reservation, committed, spent_quota
from shared.tiers import TierLimits

# prefix -> the api_keys row, or None for a prefix no key has; per isolate. Unknown prefixes are
# remembered too, so that a known and an unknown prefix take the same time to refuse (no oracle
# for which prefixes exist) and guesses cost no D1 read.
known_keys: ExpiringMap[dict[str, Any] | None] = ExpiringMap()


@dataclass
class CallAdmission:
    """What the admission of one RPC call left for the api: the caller's window, for its headers."""

    window: RateWindow | None = None


_call_admission: ContextVar[CallAdmission | None] = ContextVar("call_admission", default=None)


@contextmanager
def admission_of_call() -> Iterator[CallAdmission]:
    """Around one RPC call (inference_worker/entry.py): what its admission leaves, if it admits."""
    record = CallAdmission()
    token = _call_admission.set(record)
    try:
        yield record
    finally:
        _call_admission.reset(token)


def _left_for_the_call(window: RateWindow | None) -> None:
    if (record := _call_admission.get()) is not None and window is not None:
        record.window = window


def _refused(code: ErrorCode, reason: str, message: str, **extra: Any) -> AdmissionResult:
    return AdmissionResult(allowed=False, code=code, reason=reason, message=message, **extra)


def seconds_to_midnight(now: float) -> int:
    return int(86_400 - now % 86_400) or 1


def window_of(now: float) -> tuple[int, int]:
    """The fixed window `now` falls in: its start, and the seconds until it ends."""
    start = int(now) - int(now) % WINDOW_SECONDS
    return start, start + WINDOW_SECONDS - int(now)


async def _find_key(env: Any, prefix: str, now: float) -> dict[str, Any] | None:
    cached = known_keys.get(prefix, now)
    if cached is not MISSING:
        return cached
    row = await stores_of(env).db.find_key(prefix)
    known_keys.put(prefix, row, now + settings_of(env).key_cache_seconds)
    return row


async def _verify_key(env: Any, prefix: str, presented_hash: str, now: float) -> Caller | AdmissionResult:
    row = await _find_key(env, prefix, now)
    if row is None or not hmac.compare_digest(row["hash"], presented_hash):
        return _refused(ErrorCode.UNAUTHORIZED, "invalid_key", "The API key is not valid")
    if row["revoked_at"]:
        return _refused(ErrorCode.UNAUTHORIZED, "revoked_key", "The API key has been revoked")
    return Caller(key_id=row["id"], tier=row["tier"])


async def admit(env: Any, ctx: Any, req: AdmissionRequest, now: float | None = None,
                reservation: Reservation | None = None) -> AdmissionResult:
    """Admits `req`, counting it (and the slots it reserves) in its caller's window, once however
    often it is sent (a failover sends it again: its request id is the counter's key), and
    holding `reservation` (shared/reservations.py) if it is admitted."""
    now = clock.now() if now is None else now
    if req.key_prefix and req.key_hash:
        verified = await _verify_key(env, req.key_prefix, req.key_hash, now)
        if isinstance(verified, AdmissionResult):
            return verified
        caller = verified
    elif req.caller is not None:
        caller = req.caller
    else:
        return _refused(ErrorCode.UNAUTHORIZED, "missing_credentials", "No credentials")

    limits = settings_of(env).limits_for(caller.tier)
    if reservation is None and req.kind == "events" and req.events:  # a batch the api sends to the queue itself
        reservation = Reservation(id=req.reservation_id or req.request_id, kind="events", events=req.events)
    window_start, reset = window_of(now)
    stores = stores_of(env)
    ahead = 0
    if stores.counters is not None:  # the key's Durable Object: no D1 write for admission
        admission = {"id": req.request_id}
        if reservation is not None:
            admission |= {"reservation": asdict(reservation), "limits": asdict(Quotas.of(limits)), "ahead": req.events_ahead}
        answer = await stores.counters.count(caller.key_id, window_start, day_of(now), req.reserve, limits.requests_per_minute,
                                             admission)
        count, taken, spent, ahead = answer["count"], answer["taken"], answer["committed"], answer.get("ahead", 0)
    else:  # one slot at a time
        (count, used), taken = await stores.db.count_request(caller.key_id, window_start, day_of(now), req.request_id), 1
        spent = committed(used)
        if count == 1:  # this key's first request in a new window: drop its old ones, off the hot path
            drop = stores.db.drop_old_windows(caller.key_id, window_start)
            ctx.waitUntil(asyncio.ensure_future(drop))
        if reservation is not None and count <= limits.requests_per_minute:
            held, checked = await stores.db.hold(caller.key_id, day_of(now), reservation, Quotas.of(limits), now)
            if not held:  # refused: what the quota was checked against, reservations held included
                spent = checked
    position = count - taken + 1  # this request's place in its window; the slots after it are the caller's next requests'
    window = RateWindow(limit=limits.requests_per_minute, remaining=max(0, limits.requests_per_minute - position), reset_seconds=reset)
    result = _checked(limits, req.kind, caller, position, spent, window, taken, now)
    result.events_ahead = ahead
    result.limits = limits
    return result


def _checked(limits: TierLimits, kind: str, caller: Caller, position: int, spent: dict[str, float], window: RateWindow,
             taken: int, now: float) -> AdmissionResult:
    """The admission of a request counted at `position` in its window, against the limit and the
    day's quotas its kind spends (`spent`: usage and reservations held, shared/reservations.py)."""
    reset = window.reset_seconds
    if position > limits.requests_per_minute:
        return _refused(ErrorCode.RATE_LIMITED, "rate_limit", f"More than {limits.requests_per_minute} requests a minute",
                        caller=caller, retry_after=reset, window=window)
    if (refusal := spent_quota(kind, limits, spent)) is not None:
        return _quota_refusal(refusal, limits, caller, window, now)
    return AdmissionResult(allowed=True, caller=caller, window=window, granted=taken)


def _quota_refusal(reason: str, limits: TierLimits, caller: Caller, window: RateWindow | None, now: float) -> AdmissionResult:
    message = {"token_quota": f"The daily quota of {limits.tokens_per_day} AI tokens is used up",
               "budget": f"The daily budget of ${limits.daily_budget_usd:g} for models is spent",
               "event_quota": f"The daily quota of {limits.events_per_day} events is used up"}[reason]
    return _refused(ErrorCode.RATE_LIMITED, reason, message, caller=caller, retry_after=seconds_to_midnight(now), window=window)


def _raise_refusal(result: AdmissionResult) -> None:
    raise ServiceFailed(ServiceFailure(code=result.code or ErrorCode.RATE_LIMITED, message=result.message or "Refused",
                                       retry_after=result.retry_after, reason=result.reason))


async def admitted(env: Any, ctx: Any, req: AdmissionRequest | None, caller: Caller | None = None,
                   reservation: Reservation | None = None) -> RateWindow | None:
    """Admits the request a work call carries (see AdmissionRequest) and holds its `reservation`
    (for `caller`, when the request was admitted before), or raises the refusal as the
    ServiceFailure the api answers. The caller's window (left for the call's answer too)."""
    if req is not None:
        result = await admit(env, ctx, req, reservation=reservation)
        _left_for_the_call(result.window)
        if not result.allowed:
            _raise_refusal(result)
        return result.window
    if reservation is not None and caller is not None:
        await reserve(env, caller, reservation)
    return None


async def reserve(env: Any, caller: Caller, reservation: Reservation, now: float | None = None) -> None:
    """Holds the reservation of a request admitted before, or raises the quota's refusal."""
    now = clock.now() if now is None else now
    limits = settings_of(env).limits_for(caller.tier)
    stores = stores_of(env)
    if stores.counters is not None:
        held, spent = await stores.counters.hold(caller.key_id, day_of(now), reservation, Quotas.of(limits))
    else:
        held, spent = await stores.db.hold(caller.key_id, day_of(now), reservation, Quotas.of(limits), now)
    if not held:
        _raise_refusal(_quota_refusal(spent_quota(reservation.kind, limits, spent) or "budget", limits, caller, None, now))


async def settle(env: Any, caller: Caller, reservation_id: str, now: float | None = None) -> None:
    """Frees a reservation whose request spent nothing more than its usage records said (or failed)."""
    stores = stores_of(env)
    if stores.counters is not None:
        await stores.counters.add(caller.key_id, day_of(clock.now() if now is None else now), settles=[reservation_id])
    else:
        await stores.db.settle(caller.key_id, reservation_id)
