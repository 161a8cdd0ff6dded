"""Who is calling. Credentials come as `Authorization: Bearer <token>` or `x-api-key: <key>`.
The token is the ADMIN_TOKEN secret (admin API only), an HS256 JWT signed with JWT_SECRET (a
first-party app's end user), or an API key. JWTs are verified here; keys are verified by the
inference service, in the same call that admits the request (api/admission.py)."""

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api.inference_client import refused
from api.router import Route
from api.settings import Settings
from shared import jwt
from shared.contract import Caller
from shared.errors import ApiError, ErrorCode
from shared.keys import parse_key

if TYPE_CHECKING:
    from api.call import RequestContext

ADMIN = Caller(key_id="admin", tier="enterprise")


@dataclass(frozen=True)
class Identity:
    """What a request's credentials say: the admin, a JWT's caller, or an API key to verify."""

    credential: str  # what to log of the credentials: never the secret part
    is_admin: bool = False
    caller: Caller | None = None  # a JWT's (the admin's is ADMIN)
    key_prefix: str | None = None
    key_hash: str | None = None


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


def identify(headers: Any, route: Route, settings: Settings) -> Identity:
    """The request's identity, or the 401 the client gets."""
    token = presented_token(headers)
    if token is None:
        raise _unauthorized("missing_credentials", "Send an API key (Authorization: Bearer <key> or x-api-key) or a JWT")
    if is_admin_token(token, settings):
        # The admin token opens the admin API only: it is not a key without limits.
        if not route.admin:
            raise _unauthorized("admin_token_not_accepted", "The admin token is for the admin API (/graphql) only")
        return Identity(credential="admin", is_admin=True, caller=ADMIN)
    if token.count(".") == 2:
        caller = caller_from_jwt(token, settings)
        return Identity(credential=f"jwt:{caller.key_id.removeprefix('jwt:')}", caller=caller)
    if parsed := parse_key(token):
        prefix, digest = parsed
        # The prefix only is logged: it finds the key, it cannot use it.
        return Identity(credential=f"key:{prefix}", key_prefix=prefix, key_hash=digest)
    raise _unauthorized("invalid_credentials", "The credentials are neither an API key nor a JWT")


def require_admin(call: "RequestContext") -> None:
    if not call.is_admin:
        raise ApiError(ErrorCode.FORBIDDEN, "This needs the admin token", reason="admin_only")
