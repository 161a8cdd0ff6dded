"""Every setting of the api worker, in one place: read from its env (wrangler.toml [vars] and
secrets; locally .dev.vars and --var) and parsed on an isolate's first request, then kept for the
isolate's life, since vars cannot change while it lives. Defaults are what a deployment gets
when a var is missing or empty."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.cors import parse_allowlist
from shared.limits import MAX_BODY_BYTES, MAX_LEASE_SIZE
from shared.models import DEFAULT_TEXT_MODEL
from shared.throttle import DEFAULT_ALLOWANCE
from shared.tiers import TIERS, TierLimits, limits_for


def _var(env: Any, name: str) -> str | None:
    value = getattr(env, name, None)
    return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class Settings:
    default_model: str = DEFAULT_TEXT_MODEL  # DEFAULT_MODEL: for requests that name none
    inference_timeout_ms: float = 30_000  # INFERENCE_TIMEOUT_MS: the wait for the inference service
    allowed_origins: frozenset[str] = frozenset()  # ALLOWED_ORIGINS: comma-separated, or *
    jwt_issuer: str | None = None  # JWT_ISSUER
    jwt_audience: str | None = None  # JWT_AUDIENCE
    graphql_introspection: bool = True  # GRAPHQL_INTROSPECTION
    events_max_batch: int = 1_000  # EVENTS_MAX_BATCH (and the tier's max_batch_size)
    events_max_body_bytes: int = MAX_BODY_BYTES  # EVENTS_MAX_BODY_BYTES
    failed_auth_per_minute: int = DEFAULT_ALLOWANCE  # FAILED_AUTH_PER_MINUTE, per client address
    key_cache_seconds: float = 30  # KEY_CACHE_SECONDS: how long an isolate trusts a key it saw verified
    # READ_LEASE_SIZE: the most slots of a rate window one read takes ahead for the caller's next
    # reads in this isolate (shared/leases.py); 1 takes none.
    read_lease_size: int = 10
    # EVENTS_LEASE_SIZE: the same for event batches, which the api then sends to the event queue
    # itself (api/ingestion.py); 1 takes none.
    events_lease_size: int = 10
    backend_failures: int = 3  # BACKEND_FAILURES: failures in a row that take a backend out (api/backends.py)
    backend_cooldown_seconds: float = 30  # BACKEND_COOLDOWN_SECONDS: how long it stays out before a probe
    admin_token: str | None = field(default=None, repr=False)  # secret ADMIN_TOKEN
    jwt_secret: str | None = field(default=None, repr=False)  # secret JWT_SECRET
    tiers: Mapping[str, TierLimits] = field(default_factory=lambda: dict(TIERS))  # with TIER_<TIER>_<LIMIT> applied

    def limits_for(self, tier: str) -> TierLimits:
        return self.tiers.get(tier, self.tiers["free"])

    @classmethod
    def from_env(cls, env: Any) -> "Settings":
        def number(name: str, default: float) -> float:
            value = _var(env, name)
            return float(value) if value is not None else default

        return cls(
            default_model=_var(env, "DEFAULT_MODEL") or DEFAULT_TEXT_MODEL,
            inference_timeout_ms=number("INFERENCE_TIMEOUT_MS", 30_000),
            allowed_origins=parse_allowlist(_var(env, "ALLOWED_ORIGINS")),
            jwt_issuer=_var(env, "JWT_ISSUER"),
            jwt_audience=_var(env, "JWT_AUDIENCE"),
            graphql_introspection=(_var(env, "GRAPHQL_INTROSPECTION") or "true").lower() == "true",
            events_max_batch=int(number("EVENTS_MAX_BATCH", 1_000)),
            events_max_body_bytes=int(number("EVENTS_MAX_BODY_BYTES", MAX_BODY_BYTES)),
            failed_auth_per_minute=int(number("FAILED_AUTH_PER_MINUTE", DEFAULT_ALLOWANCE)),
            key_cache_seconds=number("KEY_CACHE_SECONDS", 30),
            read_lease_size=max(1, min(MAX_LEASE_SIZE, int(number("READ_LEASE_SIZE", 10)))),
            events_lease_size=max(1, min(MAX_LEASE_SIZE, int(number("EVENTS_LEASE_SIZE", 10)))),
            backend_failures=int(number("BACKEND_FAILURES", 3)),
            backend_cooldown_seconds=number("BACKEND_COOLDOWN_SECONDS", 30),
            admin_token=_var(env, "ADMIN_TOKEN"),
            jwt_secret=_var(env, "JWT_SECRET"),
            tiers={tier: limits_for(tier, lambda name: _var(env, name)) for tier in TIERS},
        )


_isolate_settings: Settings | None = None


def settings_of(env: Any) -> Settings:
    global _isolate_settings
    if _isolate_settings is None:
        _isolate_settings = Settings.from_env(env)
    return _isolate_settings
