"""Who is calling, and may they proceed. Credentials come as `Authorization: Bearer <token>`
or `x-api-key: <key>`. The token is the ADMIN_TOKEN secret (admin API only), an HS256 JWT
signed with JWT_SECRET (a first-party app's end user), or an API key. JWTs are verified here;
keys are verified by the inference service, in the same call that counts the request against
the caller's rate limit and quotas.

One RPC per request at most: a route that calls the inference service for its work (AI, events
where no event queue is bound) hands its admission to that call when the caller is known here
already (a JWT, or a key this isolate saw verified within KEY_CACHE_SECONDS, whose tier the
route's checks need); the service admits first, reserving the work's worst case of the day's
quotas (shared/reservations.py), and works only if allowed. An event batch of a known caller that
the api sends to the event queue itself is admitted once it is read (`admit_batch`: its events
reserved with it), and a read (a route with no work call) of a known caller before its handler:
either may take no call at all, using a slot of the caller's rate window an earlier request of
this isolate took ahead (shared/leases.py). Otherwise admission is its own call before the
handler. A request the handler refuses before its work call (a bad body, a model the
tier may not use) is admitted after it (`settle_admission`): every authenticated request is
counted exactly once, and a refused admission still wins over the handler's own error."""

import hmac
from typing import Any

from api.call import Call
from api.event_queue import event_queue_of
from api.inference_client import refused
from api.router import Route
from api.settings import Settings
from shared import clock, jwt
from shared.contract import AdmissionRequest, AdmissionResult, Caller
from shared.errors import ApiError, ErrorCode
from shared.keys import parse_key
from shared.leases import Leases
from shared.throttle import FailedAttempts

ADMIN = Caller(key_id="admin", tier="enterprise")
# Per isolate: presented credentials that failed, per client address (shared/throttle.py).
_failed_attempts = FailedAttempts()
# Refusals that are not a guess at a credential.
_NOT_GUESSES = {"missing_credentials", "admin_token_not_accepted"}
# Per isolate: key prefix -> (trusted until, the key's hash, its caller), after a verified admission.
_verified_keys: dict[str, tuple[float, str, Caller]] = {}
MAX_VERIFIED_KEYS = 10_000
# Per isolate: slots of rate windows taken in advance (shared/leases.py), for reads and for event batches.
_leases = {"read": Leases(), "events": Leases()}
# Routes whose handler makes one work call to the inference service, which can admit in it.
WORK_KINDS = {"ai", "events"}


def _known_caller(prefix: str, digest: str, now: float) -> Caller | None:
    known = _verified_keys.get(prefix)
    if known and known[0] > now and hmac.compare_digest(known[1], digest):
        return known[2]
    return None


def _remember(prefix: str, digest: str, caller: Caller, now: float, seconds: float) -> None:
    if len(_verified_keys) >= MAX_VERIFIED_KEYS:
        _verified_keys.clear()
    _verified_keys[prefix] = (now + seconds, digest, caller)


def forget_key(key_id: str) -> None:
    """A key revoked through this isolate is distrusted here at once (elsewhere within KEY_CACHE_SECONDS)."""
    for prefix, (_, _, caller) in list(_verified_keys.items()):
        if caller.key_id == key_id:
            del _verified_keys[prefix]
            for leases in _leases.values():
                leases.forget(f"key:{prefix}")


def presented_token(headers: Any) -> str | None:
    authorization = headers.get("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (headers.get("x-api-key") or "").strip() or None


def _unauthorized(reason: str, message: str) -> ApiError:
    return refused(ErrorCode.UNAUTHORIZED, message, reason)


def is_admin_token(token: str, settings: Settings) -> bool:
    return bool(settings.admin_token) and hmac.compare_digest(token.encode(), settings.admin_token.encode())


def caller_from_jwt(token: str, settings: Settings) -> Caller:
    if not settings.jwt_secret:
        raise _unauthorized("token_unsupported", "This deployment accepts no JWTs (JWT_SECRET is not set)")
    try:
        claims = jwt.decode(token, settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        tier = jwt.claimed_tier(claims)
    except jwt.TokenRejected as exc:
        raise _unauthorized(exc.reason, str(exc)) from exc
    return Caller(key_id=f"jwt:{claims['sub']}", tier=tier)


async def authenticate(call: Call, route: Route) -> None:
    """Sets call.caller and call.rate_window (or leaves the admission to the handler's work call,
    which sets the window), or raises the 401/429 the client gets. A client
    address that has failed too often this minute gets 429 whatever it presents, so that it
    cannot learn whether a guess was right."""
    address = call.headers.get("cf-connecting-ip") or "unknown"
    now = clock.now()
    _failed_attempts.allowance = call.settings.failed_auth_per_minute
    if (wait := _failed_attempts.retry_after(address, now)) is not None:
        raise ApiError(ErrorCode.RATE_LIMITED, "Too many failed credentials from this address; try again later",
                       reason="too_many_failed_credentials", headers={"retry-after": str(wait)})
    try:
        await _authenticate(call, route)
    except ApiError as exc:
        if exc.code == ErrorCode.UNAUTHORIZED and exc.details.get("reason") not in _NOT_GUESSES:
            _failed_attempts.record_failure(address, now)
        raise


async def _authenticate(call: Call, route: Route) -> None:
    token = presented_token(call.headers)
    if token is None:
        raise _unauthorized("missing_credentials", "Send an API key (Authorization: Bearer <key> or x-api-key) or a JWT")
    if is_admin_token(token, call.settings):
        # The admin token opens the admin API only: it is not a key without limits.
        if not route.admin:
            raise _unauthorized("admin_token_not_accepted", "The admin token is for the admin API (/graphql) only")
        call.caller, call.is_admin, call.credential = ADMIN, True, "admin"
        return
    admission = AdmissionRequest(request_id=call.request_id, kind=route.kind)
    now = clock.now()
    known: Caller | None = None
    if token.count(".") == 2:
        admission.caller = known = caller_from_jwt(token, call.settings)
        call.credential = f"jwt:{admission.caller.key_id.removeprefix('jwt:')}"
    elif parsed := parse_key(token):
        admission.key_prefix, admission.key_hash = parsed
        call.credential = f"key:{admission.key_prefix}"  # the prefix only: it finds the key, it cannot use it
        known = _known_caller(admission.key_prefix, admission.key_hash, now)
    else:
        raise _unauthorized("invalid_credentials", "The credentials are neither an API key nor a JWT")
    if known is not None and route.kind in WORK_KINDS:
        # Admitted with the work, whose size it reserves: by the handler's work call, or (an event
        # batch the api sends to the queue) by `admit_batch` once the batch is read.
        call.caller = known
        call.inference.admission = admission
        return
    if route.kind != "read":  # reads alone are admitted from slots taken ahead here
        result = await call.inference.admit(admission)
    else:
        async def ask(reserve: int) -> AdmissionResult:
            admission.reserve = reserve
            return await call.inference.admit(admission)
        limit = call.settings.limits_for(known.tier).requests_per_minute if known is not None else 0
        # The holder: the key's prefix or the JWT's subject, as logged (call.credential).
        result = await _leases["read"].admit(call.credential, now, ask, verified=known is not None, limit=limit,
                                    lease_size=call.settings.read_lease_size)
    call.caller = result.caller or known  # a slot held here has no caller: the known one
    _apply(call, result)
    if admission.key_prefix and admission.key_hash and result.caller is not None:
        _remember(admission.key_prefix, admission.key_hash, result.caller, now, call.settings.key_cache_seconds)


def _apply(call: Call, result: AdmissionResult) -> None:
    """The admission's window for the response's headers; its refusal raised."""
    call.rate_window = result.window
    if not result.allowed:
        raise refused(result.code or ErrorCode.RATE_LIMITED, result.message or "Refused", result.reason or "refused",
                      result.retry_after)


async def admit_batch(call: Call, batch_id: str, events: int) -> bool:
    """Admits an event batch of a caller known here (its admission was left to this, api/ingestion.py)
    with its `events` reserved of the day's quota, from a slot held here or by a call to the
    caller's counter, so that the api may send it to the queue itself; raises the refusal. False
    when the api has no queue: the batch's work call carries its admission instead."""
    if event_queue_of(call.env) is None:
        return False
    client = call.inference
    admission = client.take_admission()
    admission.events, admission.reservation_id = events, batch_id

    async def ask(reserve: int) -> AdmissionResult:
        admission.reserve, admission.events_ahead = reserve, (reserve - 1) * events
        return await client.admit(admission)

    limit = call.settings.limits_for(call.caller.tier).requests_per_minute
    result = await _leases["events"].admit(call.credential, clock.now(), ask, verified=True, limit=limit,
                                           lease_size=call.settings.events_lease_size, events=events)
    _apply(call, result)
    return True


async def settle_admission(call: Call) -> None:
    """Counts a request whose admission was left to a work call that never went out (the handler
    refused the request first): every authenticated request is counted once, and answered with
    its rate-limit headers. Raises the refusal if the admission itself is refused."""
    if not call.admission_pending:
        return
    client = call.inference
    result = await client.admit(client.take_admission())
    _apply(call, result)


def require_admin(call: Call) -> None:
    if not call.is_admin:
        raise ApiError(ErrorCode.FORBIDDEN, "This needs the admin token", reason="admin_only")


def check_model_allowed(call: Call, model: str) -> None:
    if call.is_admin:
        return
    if not call.settings.limits_for(call.caller.tier).allows_model(model):
        raise ApiError(ErrorCode.FORBIDDEN, f"The {call.caller.tier} tier may not use {model}", field="model", reason="model_not_allowed")
