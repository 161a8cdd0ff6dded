"""CORS with an origin allowlist (the ALLOWED_ORIGINS var: comma-separated origins, or *),
and the security headers every response carries."""

ALLOWED_HEADERS = "authorization, content-type, x-api-key, x-stream-protocol, x-cache-skip, x-cache-ttl"
EXPOSED_HEADERS = (
    "x-request-id, x-model, x-provider, x-cache, x-cache-score, x-inference-backend, retry-after, x-ratelimit-limit, "
    "x-ratelimit-remaining, x-ratelimit-reset, x-vercel-ai-ui-message-stream"
)
PREFLIGHT_MAX_AGE = "600"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def parse_allowlist(value: str | None) -> frozenset[str]:
    return frozenset(origin.strip().rstrip("/") for origin in (value or "").split(",") if origin.strip())


def is_allowed(origin: str | None, allowlist: frozenset[str]) -> bool:
    return origin is not None and origin != "" and ("*" in allowlist or origin.rstrip("/") in allowlist)


def response_headers(origin: str | None, allowlist: frozenset[str]) -> dict[str, str]:
    if origin is None or not is_allowed(origin, allowlist):
        return {}
    return {"access-control-allow-origin": origin, "access-control-expose-headers": EXPOSED_HEADERS, "vary": "Origin"}


def preflight_headers(origin: str, allowlist: frozenset[str], methods: list[str]) -> dict[str, str]:
    return {
        **response_headers(origin, allowlist),
        "access-control-allow-methods": ", ".join([*methods, "OPTIONS"]),
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE,
    }
