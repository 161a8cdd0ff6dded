"""May the caller proceed: the rate limit and the daily quotas, counted by the inference service
(inference/admission.py), which also verifies API keys. Two things live here: `IsolateAdmissions`,
what one isolate remembers across requests (callers it saw admitted, with their limits; slots of
their rate windows taken ahead; failed credentials per client address), and `Admission`, one
request's: what the service is asked, whether that is left to the handler's work call, and what
the answer said (the caller's window for the response's headers, its limits). The handler
passes `call.admission` to the client call that carries it (api/inference_client.py).

One RPC per request at most: a route that calls the inference service for its work (AI, events
where no event queue is bound) leaves its admission to that call when the caller is known here
already (admitted in this isolate within KEY_CACHE_SECONDS, with the same key or the same JWT
tier); the service admits first, reserving the work's worst case of the day's quotas
(shared/reservations.py), and works only if allowed. An event batch of a known caller that the
api sends to the event queue itself is admitted once it is read (`admit_batch`: its events
reserved with it), and a read (a route with no work call) of a known caller before its handler:
either may take no call at all, using a slot of the caller's rate window an earlier request of
this isolate took ahead (shared/leases.py). Otherwise admission is its own call before the
handler. A request the handler refuses before its work call (a bad body, a model the tier may
not use) is admitted after it (`settle`): every authenticated request is counted exactly once,
and a refused admission still wins over the handler's own error."""

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.auth import ADMIN, identify
from api.inference_client import refused
from api.router import Route
from shared import clock
from shared.batches import event_queue
from shared.contract import AdmissionRequest, AdmissionResult, Caller, RateWindow
from shared.errors import ApiError, ErrorCode
from shared.expiring import MISSING, ExpiringMap
from shared.leases import Leases
from shared.throttle import FailedAttempts
from shared.tiers import TierLimits

if TYPE_CHECKING:
    from api.call import RequestContext

# Routes whose handler makes one work call to the inference service, which can admit in it.
WORK_KINDS = {"ai", "events"}
# 401s that are not a guess at a credential, so not counted against the client's address.
_NOT_GUESSES = {"missing_credentials", "admin_token_not_accepted"}


@dataclass(frozen=True)
class KnownCaller:
    """A caller this isolate saw admitted, as the service said: who, and its limits."""

    proof: str  # what a request's credentials must match to be this caller: a key's hash, a JWT's tier
    caller: Caller
    limits: TierLimits


class IsolateAdmissions:
    """What one isolate remembers for admission, across its requests."""

    def __init__(self) -> None:
        # Holder (the credential as logged: `key:<prefix>`, `jwt:<subject>`) -> the caller admitted with it.
        self.known: ExpiringMap[KnownCaller] = ExpiringMap()
        # Slots of rate windows taken in advance (shared/leases.py), for reads and for event batches.
        self.leases = {"read": Leases(), "events": Leases()}
        self.failed_credentials = FailedAttempts()  # per client address (shared/throttle.py)

    def known_caller(self, holder: str, proof: str, now: float) -> KnownCaller | None:
        known = self.known.get(holder, now)
        if known is MISSING or not hmac.compare_digest(known.proof, proof):
            return None
        return known

    def forget_key(self, key_id: str) -> None:
        """A key revoked, rotated or given a new policy through this isolate is trusted here no
        more (elsewhere within KEY_CACHE_SECONDS)."""
        for holder in self.known.discard_where(lambda known: known.caller.key_id == key_id):
            for leases in self.leases.values():
                leases.forget(holder)


isolate = IsolateAdmissions()


@dataclass
class Admission:
    """One request's admission: asked of the service before the handler, or left to the
    handler's work call (`pending`), which carries it (`carried`)."""

    request: AdmissionRequest
    holder: str  # whose slots and cache entry: the credential as logged
    proof: str
    pending: bool = False
    window: RateWindow | None = None  # the caller's, for the response's headers
    limits: TierLimits | None = None  # the caller's, as the service last said

    def carried(self) -> AdmissionRequest | None:
        """The admission a work call carries: the pending one, taken by the first call that asks."""
        if not self.pending:
            return None
        self.pending = False
        return self.request

    def answered(self, window: RateWindow | None) -> None:
        if window is not None:
            self.window = window

    def apply(self, result: AdmissionResult) -> None:
        """The service's answer: the window and limits it says; its refusal raised."""
        self.answered(result.window)
        self.limits = result.limits or self.limits
        if not result.allowed:
            raise refused(result.code or ErrorCode.RATE_LIMITED, result.message or "Refused", result.reason or "refused",
                          result.retry_after)


async def admit(call: "RequestContext", route: Route) -> None:
    """Who is calling (api/auth.py) and may they proceed: sets call.caller and call.admission, or
    raises the 401/429 the client gets. A client address that has failed too often this minute
    gets 429 whatever it presents, so that it cannot learn whether a guess was right."""
    address = call.headers.get("cf-connecting-ip") or "unknown"
    now = clock.now()
    failed = isolate.failed_credentials
    failed.allowance = call.settings.failed_auth_per_minute
    if (wait := failed.retry_after(address, now)) is not None:
        raise ApiError(ErrorCode.RATE_LIMITED, "Too many failed credentials from this address; try again later",
                       reason="too_many_failed_credentials", headers={"retry-after": str(wait)})
    try:
        await _admit(call, route, now)
    except ApiError as exc:
        if exc.code == ErrorCode.UNAUTHORIZED and exc.details.get("reason") not in _NOT_GUESSES:
            failed.record_failure(address, now)
        raise


async def _admit(call: "RequestContext", route: Route, now: float) -> None:
    identity = identify(call.headers, route, call.settings)
    call.credential = identity.credential
    if identity.is_admin:
        call.caller, call.is_admin = ADMIN, True
        return
    request = AdmissionRequest(request_id=call.request_id, kind=route.kind, caller=identity.caller,
                               key_prefix=identity.key_prefix, key_hash=identity.key_hash)
    proof = identity.key_hash or identity.caller.tier
    admission = call.admission = Admission(request, identity.credential, proof)
    known = isolate.known_caller(admission.holder, proof, now)
    if known is not None:
        call.caller, admission.limits = known.caller, known.limits
        if route.kind in WORK_KINDS:
            # Admitted with the work, whose size it reserves: by the handler's work call, or (an event
            # batch the api sends to the queue) by `admit_batch` once the batch is read.
            admission.pending = True
            return
    if route.kind != "read":  # reads alone are admitted from slots taken ahead here
        result = await call.inference.admit(request)
    else:
        async def ask(reserve: int) -> AdmissionResult:
            request.reserve = reserve
            return await call.inference.admit(request)
        limit = known.limits.requests_per_minute if known is not None else 0
        result = await isolate.leases["read"].admit(admission.holder, now, ask, verified=known is not None, limit=limit,
                                                    lease_size=call.settings.read_lease_size)
    call.caller = result.caller or call.caller  # a slot held here has no caller: the known one
    admission.apply(result)
    if result.caller is not None and result.limits is not None:
        # Trusted here no longer than the credential is valid (an expiring key, a rotated key's old secret).
        trusted_until = min(now + call.settings.key_cache_seconds, result.valid_until or float("inf"))
        isolate.known.put(admission.holder, KnownCaller(proof, result.caller, result.limits), trusted_until)


async def admit_batch(call: "RequestContext", batch_id: str, events: int) -> bool:
    """Admits an event batch whose admission was left to this (a caller known here, api/ingestion.py)
    with its `events` reserved of the day's quota, from a slot held here or by a call to the
    caller's counter, so that the api may send it to the queue itself; raises the refusal. False
    when there is no such admission or the api has no queue: the batch's work call carries its
    admission instead."""
    admission = call.admission
    if admission is None or not admission.pending or event_queue(call.env) is None:
        return False
    request = admission.carried()
    request.events, request.reservation_id = events, batch_id

    async def ask(reserve: int) -> AdmissionResult:
        request.reserve, request.events_ahead = reserve, (reserve - 1) * events
        return await call.inference.admit(request)

    result = await isolate.leases["events"].admit(admission.holder, clock.now(), ask, verified=True,
                                                  limit=admission.limits.requests_per_minute,
                                                  lease_size=call.settings.events_lease_size, events=events)
    admission.apply(result)
    return True


async def settle(call: "RequestContext") -> None:
    """Counts a request whose admission was left to a work call that never went out (the handler
    refused the request first): every authenticated request is counted once, and answered with
    its rate-limit headers. Raises the refusal if the admission itself is refused."""
    admission = call.admission
    if admission is not None and (request := admission.carried()) is not None:
        admission.apply(await call.inference.admit(request))


def caller_limits(call: "RequestContext") -> TierLimits | None:
    """The caller's limits as its admission said; None for the admin, who has no tier's limits."""
    return call.admission.limits if call.admission is not None else None


def check_model_allowed(call: "RequestContext", model: str) -> None:
    """Refuses a model outside the caller's limits (its tier's, narrowed by its key's policy)."""
    limits = caller_limits(call)
    if limits is not None and not limits.allows_model(model):
        raise ApiError(ErrorCode.MODEL_NOT_ALLOWED, f"This caller may not use {model}; its {call.caller.tier} tier and its key's "
                       f"policy allow {', '.join(limits.allowed_models) or 'no model'}", field="model", reason="model_not_allowed",
                       model=model)
