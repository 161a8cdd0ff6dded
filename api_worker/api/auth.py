"""Who is calling, and may they proceed. Credentials come as `Authorization: Bearer <token>`
or `x-api-key: <key>`. The token is the ADMIN_TOKEN secret (admin API only), an HS256 JWT
signed with JWT_SECRET (a first-party app's end user), or an API key. JWTs are verified here;
keys are verified by the inference service, in the same call that counts the request against
the caller's rate limit and quotas (one RPC per request)."""

import hmac
import time
from typing import Any

from api.call import Call
from api.router import Route
from api.settings import Settings
from shared import jwt
from shared.contract import AdmissionRequest, Caller
from shared.errors import ApiError, ErrorCode
from shared.keys import parse_key
from shared.throttle import FailedAttempts
from shared.tiers import TIERS

ADMIN = Caller(key_id="admin", tier="enterprise")
# Per isolate: presented credentials that failed, per client address (shared/throttle.py).
_failed_attempts = FailedAttempts()
# Refusals that are not a guess at a credential.
_NOT_GUESSES = {"missing_credentials", "admin_token_not_accepted"}


def presented_token(headers: Any) -> str | None:
    authorization = headers.get("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (headers.get("x-api-key") or "").strip() or None


def _unauthorized(reason: str, message: str) -> ApiError:
    return ApiError(ErrorCode.UNAUTHORIZED, message, reason=reason, headers={"www-authenticate": 'Bearer realm="inference-ui"'})


def is_admin_token(token: str, settings: Settings) -> bool:
    return bool(settings.admin_token) and hmac.compare_digest(token.encode(), settings.admin_token.encode())


def caller_from_jwt(token: str, settings: Settings) -> Caller:
    if not settings.jwt_secret:
        raise _unauthorized("token_unsupported", "This deployment accepts no JWTs (JWT_SECRET is not set)")
    try:
        claims = jwt.decode(token, settings.jwt_secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    except jwt.TokenRejected as exc:
        raise _unauthorized(exc.reason, str(exc)) from exc
    tier = claims.get("tier") if claims.get("tier") in TIERS else "free"
    return Caller(key_id=f"jwt:{claims['sub']}", tier=tier)


async def authenticate(call: Call, route: Route) -> None:
    """Sets call.caller and call.rate_window, or raises the 401/429 the client gets. A client
    address that has failed too often this minute gets 429 whatever it presents, so that it
    cannot learn whether a guess was right."""
    address = call.headers.get("cf-connecting-ip") or "unknown"
    now = time.time()
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
    if token.count(".") == 2:
        admission.caller = caller_from_jwt(token, call.settings)
        call.credential = f"jwt:{admission.caller.key_id.removeprefix('jwt:')}"
    elif parsed := parse_key(token):
        admission.key_prefix, admission.key_hash = parsed
        call.credential = f"key:{admission.key_prefix}"  # the prefix only: it finds the key, it cannot use it
    else:
        raise _unauthorized("invalid_credentials", "The credentials are neither an API key nor a JWT")
    result = await call.inference.admit(admission)
    call.rate_window = result.window
    if result.caller is not None:
        call.caller = result.caller
    if not result.allowed:
        if result.code == ErrorCode.UNAUTHORIZED:
            raise _unauthorized(result.reason or "invalid_key", result.message or "Not authorized")
        raise ApiError(result.code or ErrorCode.RATE_LIMITED, result.message or "Rate limited", reason=result.reason,
                       headers={"retry-after": str(result.retry_after or 1)})


def require_admin(call: Call) -> None:
    if not call.is_admin:
        raise ApiError(ErrorCode.FORBIDDEN, "This needs the admin token", reason="admin_only")


def check_model_allowed(call: Call, model: str) -> None:
    if call.is_admin:
        return
    if not call.settings.limits_for(call.caller.tier).allows_model(model):
        raise ApiError(ErrorCode.FORBIDDEN, f"The {call.caller.tier} tier may not use {model}", field="model", reason="model_not_allowed")
