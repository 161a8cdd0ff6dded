"""HS256 JSON Web Tokens with the standard library (hmac, hashlib, base64): verifying one is a
few microseconds of work and no import cost, which no JWT library can beat at cold start."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from shared.json_reader import JsonRefused, parse_json
from shared.tiers import TIERS


class TokenRejected(Exception):
    """Why a token is refused, as a reason code a client can act on."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(claims: dict[str, Any], secret: str) -> str:
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


# A browser's token is meant to be short-lived; a year is the most accepted.
MAX_LIFETIME_SECONDS = 366 * 86_400
# A token's header and claims, each: a few hundred bytes and a level or two in any real token.
MAX_PART_BYTES = 8_192
MAX_PART_DEPTH = 8


def _part(part: str, field: str) -> Any:
    """A token part's JSON, read under the reader's budget before anything recursive sees it
    (the header is parsed before the signature is checked: anyone can send one)."""
    return parse_json(_b64decode(part), max_bytes=MAX_PART_BYTES, max_depth=MAX_PART_DEPTH, field=field)


def decode(
    token: str,
    secret: str,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    now: float | None = None,
    leeway: int = 30,
) -> dict[str, Any]:
    """The verified claims of `token`, or TokenRejected with the reason."""
    try:
        header_part, payload_part, signature_part = token.split(".")
        header = _part(header_part, "header")
        claims = _part(payload_part, "claims")
        signature = _b64decode(signature_part)
    except JsonRefused as exc:
        raise TokenRejected("token_malformed", f"The token is not a well-formed JWT ({exc})") from None
    except ValueError as exc:
        raise TokenRejected("token_malformed", "The token is not a well-formed JWT") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenRejected("token_algorithm", "Only HS256 tokens are accepted")
    expected = hmac.new(secret.encode(), f"{header_part}.{payload_part}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise TokenRejected("token_signature", "The token's signature does not verify")
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("token_malformed", "The token has no subject (sub)")
    if not isinstance(claims.get("exp"), int | float) or isinstance(claims["exp"], bool):
        raise TokenRejected("token_malformed", "The token has no expiry (exp)")
    now = time.time() if now is None else now
    if claims["exp"] > now + MAX_LIFETIME_SECONDS:
        # exp: 1e300 would be a token that never expires: a leaked one could never be stopped.
        raise TokenRejected("token_lifetime", f"The token expires more than {MAX_LIFETIME_SECONDS // 86_400} days from now")
    if now >= claims["exp"] + leeway:
        raise TokenRejected("token_expired", "The token has expired")
    if isinstance(claims.get("nbf"), int | float) and now < claims["nbf"] - leeway:
        raise TokenRejected("token_not_yet_valid", "The token is not valid yet")
    if issuer is not None and claims.get("iss") != issuer:
        raise TokenRejected("token_issuer", "The token's issuer is not accepted")
    if audience is not None:
        aud = claims.get("aud")
        if audience not in (aud if isinstance(aud, list) else [aud]):
            raise TokenRejected("token_audience", "The token is not meant for this service")
    return claims


def claimed_tier(claims: dict[str, Any]) -> str:
    """The tier a verified token's `tier` claim names: free when it is absent, null or no tier's
    name; a claim that is not a string is a malformed token."""
    tier = claims.get("tier")
    if tier is not None and not isinstance(tier, str):
        raise TokenRejected("token_malformed", "The token's tier claim must be a string (a tier name)")
    return tier if tier in TIERS else "free"
