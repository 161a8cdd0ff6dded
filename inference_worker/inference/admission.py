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

from inference import usage_batch
from inference.settings import settings_of
from inference.store import stores_of
from inference.store.d1 import day_of
from shared import clock
from shared.contract import AdmissionRequest, AdmissionResult, Caller, RateWindow, ServiceFailed, ServiceFailure
from shared.errors import ErrorCode
from shared.expiring import MISSING, ExpiringMap
from shared.json_reader import parse_internal_as
from shared.leases import WINDOW_SECONDS
from shared.policy import BudgetPeriod, KeyPolicy, narrowed, period_end
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


def seconds_to_period_end(period: BudgetPeriod, now: float) -> int:
    """Seconds until the calendar period (UTC) `now` falls in ends."""
    return max(1, int(period_end(period, day_of(now)) - now))


def window_of(now: float) -> tuple[int, int]:
    """The fixed window `now` falls in: its start, and the seconds until it ends."""
    start = int(now) - int(now) % WINDOW_SECONDS
    return start, start + WINDOW_SECONDS - int(now)


async def _find_key(env: Any, prefix: str, now: float) -> dict[str, Any] | None:
    cached = known_keys.get(prefix, now)
    if cached is not MISSING:
        return cached
    row = await stores_of(env).db.find_key(prefix)
    if row is not None:  # its policy read once, as it is kept
        policy_json = row.pop("policy_json", None)
        row["policy"] = parse_internal_as(KeyPolicy, policy_json, field="policy") if policy_json else None
    known_keys.put(prefix, row, now + settings_of(env).key_cache_seconds)
    return row


@dataclass(frozen=True)
class VerifiedKey:
    caller: Caller
    valid_until: float | None  # unix seconds: the key's expiry, or its old secret's grace


async def _verify_key(env: Any, prefix: str, presented_hash: str, now: float) -> VerifiedKey | AdmissionResult:
    """The key's caller if the secret presented is its current one, or its previous one within
    the grace its rotation gave; else the 401's refusal."""
    row = await _find_key(env, prefix, now)
    current = row is not None and hmac.compare_digest(row["hash"], presented_hash)
    previous = row is not None and not current and bool(row.get("previous_hash")) \
        and hmac.compare_digest(row["previous_hash"], presented_hash)
    if row is None or not (current or previous):
        return _refused(ErrorCode.UNAUTHORIZED, "invalid_key", "The API key is not valid")
    if row["revoked_at"]:
        return _refused(ErrorCode.UNAUTHORIZED, "revoked_key", "The API key has been revoked")
    policy: KeyPolicy | None = row.get("policy")
    deadlines = [policy.expires()] if policy is not None and policy.expires() is not None else []
    if previous:
        if now >= (row.get("previous_valid_until") or 0):
            return _refused(ErrorCode.UNAUTHORIZED, "rotated_key", "This secret of the API key was replaced by a new one")
        deadlines.append(row["previous_valid_until"])
    if policy is not None and (expires := policy.expires()) is not None and now >= expires:
        return _refused(ErrorCode.UNAUTHORIZED, "expired_key", f"The API key expired at {policy.expires_at.isoformat()}")
    return VerifiedKey(Caller(key_id=row["id"], tier=row["tier"], policy=policy), min(deadlines) if deadlines else None)


def limits_of(env: Any, caller: Caller) -> TierLimits:
    """The caller's limits: its tier's (with the deployment's TIER_* vars), narrowed by its key's policy."""
    return narrowed(settings_of(env).limits_for(caller.tier), caller.policy)


async def admit(env: Any, ctx: Any, req: AdmissionRequest, now: float | None = None,
                reservation: Reservation | None = None) -> AdmissionResult:
    """Admits `req`, counting it (and the slots it reserves) in its caller's window, once however
    often it is sent (a failover sends it again: its request id is the counter's key), and
    holding `reservation` (shared/reservations.py) if it is admitted."""
    now = clock.now() if now is None else now
    valid_until = None
    if req.key_prefix and req.key_hash:
        verified = await _verify_key(env, req.key_prefix, req.key_hash, now)
        if isinstance(verified, AdmissionResult):
            return verified
        caller, valid_until = verified.caller, verified.valid_until
    elif req.caller is not None:
        caller = req.caller.model_copy(update={"policy": None})  # a JWT's: no key, no key policy
    else:
        return _refused(ErrorCode.UNAUTHORIZED, "missing_credentials", "No credentials")

    limits = limits_of(env, caller)
    today = day_of(now)
    quotas = Quotas.of(limits, caller.policy, today)
    if reservation is None and req.kind == "events" and req.events:  # a batch the api sends to the queue itself
        reservation = Reservation(id=req.reservation_id or req.request_id, kind="events", events=req.events)
    window_start, reset = window_of(now)
    stores = stores_of(env)
    ahead = 0
    if stores.counters is not None:  # the key's Durable Object: no D1 write for admission
        admission = {"id": req.request_id, "kind": req.kind, "limits": asdict(quotas)}
        if reservation is not None:
            admission |= {"reservation": asdict(reservation), "ahead": req.events_ahead}
        counters = stores.counters

        async def send_count(carried: dict[str, Any] | None) -> dict[str, Any]:
            return await counters.count(caller.key_id, window_start, today, req.reserve, limits.requests_per_minute,
                                        admission | {"carried": carried} if carried else admission)

        answer = await usage_batch.carried_by(env, caller.key_id, today, send_count)
        count, taken, ahead = answer["count"], answer["taken"], answer.get("ahead", 0)
        refusal = answer.get("refusal")
    else:  # one slot at a time
        (count, used), taken = await stores.db.count_request(caller.key_id, window_start, today, req.request_id), 1
        spent = committed(used)
        if count == 1:  # this key's first request in a new window: drop its old ones, off the hot path
            drop = stores.db.drop_old_windows(caller.key_id, window_start)
            ctx.waitUntil(asyncio.ensure_future(drop))
        # Without the counter a key's budget is checked against today's spend only (docs/admission.md).
        refusal = spent_quota(req.kind, quotas, spent)
        if reservation is not None and count <= limits.requests_per_minute and refusal is None:
            held, checked = await stores.db.hold(caller.key_id, today, reservation, quotas, now)
            if not held:  # refused: what the quota was checked against, reservations held included
                refusal = spent_quota(req.kind, quotas, checked)
    position = count - taken + 1  # this request's place in its window; the slots after it are the caller's next requests'
    window = RateWindow(limit=limits.requests_per_minute, remaining=max(0, limits.requests_per_minute - position), reset_seconds=reset)
    result = _checked(limits, quotas, caller, position, refusal, window, taken, now)
    result.events_ahead = ahead
    result.limits = limits
    result.valid_until = valid_until
    return result


def _checked(limits: TierLimits, quotas: Quotas, caller: Caller, position: int, refusal: str | None, window: RateWindow,
             taken: int, now: float) -> AdmissionResult:
    """The admission of a request counted at `position` in its window, against the limit and the
    limit its counter found reached (`refusal`: shared/reservations.py), if any."""
    reset = window.reset_seconds
    if position > limits.requests_per_minute:
        return _refused(ErrorCode.RATE_LIMITED, "rate_limit", f"More than {limits.requests_per_minute} requests a minute",
                        caller=caller, retry_after=reset, window=window)
    if refusal is not None:
        return _quota_refusal(refusal, quotas, caller, window, now)
    return AdmissionResult(allowed=True, caller=caller, window=window, granted=taken)


def _quota_refusal(reason: str, quotas: Quotas, caller: Caller, window: RateWindow | None, now: float) -> AdmissionResult:
    """The 429 of a limit reached: its code and reason name the limit, Retry-After says when it reopens."""
    policy = caller.policy
    if reason == "key_budget" and policy is not None:
        return _refused(ErrorCode.BUDGET_EXCEEDED, reason, f"The key's {policy.budget_period}ly budget of ${quotas.key_budget_usd:g} "
                        "for models is spent", caller=caller, retry_after=seconds_to_period_end(policy.budget_period, now),
                        window=window)
    if reason == "tokens_per_minute":
        return _refused(ErrorCode.TOKENS_PER_MINUTE_EXCEEDED, reason, f"The key's {quotas.tokens_per_minute:g} AI tokens a minute "
                        "are used or held by requests in flight", caller=caller, retry_after=window_of(now)[1], window=window)
    if reason == "concurrency":
        return _refused(ErrorCode.CONCURRENCY_LIMIT_EXCEEDED, reason, f"The key's {quotas.max_concurrent} AI requests at once "
                        "are in flight", caller=caller, retry_after=1, window=window)
    message = {"token_quota": f"The daily quota of {quotas.tokens_per_day:g} AI tokens is used up",
               "budget": f"The daily budget of ${quotas.daily_budget_usd:g} for models is spent",
               "event_quota": f"The daily quota of {quotas.events_per_day:g} events is used up"}[reason]
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
    """Holds the reservation of a request admitted before, or raises the limit's refusal."""
    now = clock.now() if now is None else now
    today = day_of(now)
    quotas = Quotas.of(limits_of(env, caller), caller.policy, today)
    stores = stores_of(env)
    if (counters := stores.counters) is not None:
        async def send_hold(carried: dict[str, Any] | None) -> dict[str, Any]:
            return await counters.hold(caller.key_id, today, reservation, quotas, carried)

        answer = await usage_batch.carried_by(env, caller.key_id, today, send_hold)
        held, refusal = answer["held"], answer.get("refusal")
    else:
        held, spent = await stores.db.hold(caller.key_id, today, reservation, quotas, now)
        refusal = spent_quota(reservation.kind, quotas, spent)
    if not held:
        _raise_refusal(_quota_refusal(refusal or "budget", quotas, caller, None, now))


async def settle(env: Any, caller: Caller, reservation_id: str, now: float | None = None) -> None:
    """Frees a reservation whose request spent nothing more than its usage records said (or failed)."""
    stores = stores_of(env)
    if stores.counters is not None:
        await stores.counters.add(caller.key_id, day_of(clock.now() if now is None else now), settles=[reservation_id])
    else:
        await stores.db.settle(caller.key_id, reservation_id)
