"""Every setting of the api worker, one line each (shared/config.py): read from its env
(wrangler.toml [vars] and secrets; locally .dev.vars and --var) on an isolate's first request,
then kept for the isolate's life."""

from dataclasses import dataclass

from api.cors import parse_allowlist
from shared.config import EnvSettings, clamped, flag, integer, number, setting, text
from shared.isolate import PerIsolate
from shared.limits import MAX_BODY_BYTES, MAX_LEASE_SIZE
from shared.models import DEFAULT_TEXT_MODEL
from shared.throttle import DEFAULT_ALLOWANCE


@dataclass(frozen=True)
class Settings(EnvSettings):
    default_model: str = setting("DEFAULT_MODEL", DEFAULT_TEXT_MODEL, text, doc="the model of a request that names none")
    inference_timeout_ms: float = setting("INFERENCE_TIMEOUT_MS", 30_000.0, number,
                                          doc="the wait for the inference service (its first token, when streaming)")
    allowed_origins: frozenset[str] = setting("ALLOWED_ORIGINS", frozenset(), parse_allowlist,
                                              doc="browser origins allowed to call the api: comma-separated, or *")
    jwt_issuer: str | None = setting("JWT_ISSUER", None, text, doc="the iss a JWT must carry, when set")
    jwt_audience: str | None = setting("JWT_AUDIENCE", None, text, doc="the aud a JWT must carry, when set")
    graphql_introspection: bool = setting("GRAPHQL_INTROSPECTION", True, flag, doc="GraphiQL needs it; false hides the schema")
    events_max_batch: int = setting("EVENTS_MAX_BATCH", 1_000, integer, doc="events in a batch at most (and the tier's max_batch_size)")
    events_max_body_bytes: int = setting("EVENTS_MAX_BODY_BYTES", MAX_BODY_BYTES, integer, doc="bytes of an event batch at most")
    failed_auth_per_minute: int = setting("FAILED_AUTH_PER_MINUTE", DEFAULT_ALLOWANCE, integer,
                                          doc="failed authentications a client address may make a minute")
    key_cache_seconds: float = setting("KEY_CACHE_SECONDS", 30.0, number, doc="how long an isolate trusts a key it saw verified")
    read_lease_size: int = setting("READ_LEASE_SIZE", 10, clamped(integer, 1, MAX_LEASE_SIZE),
                                   doc="rate-window slots a read takes ahead for the caller's next reads here (shared/leases.py); 1: none")
    events_lease_size: int = setting("EVENTS_LEASE_SIZE", 10, clamped(integer, 1, MAX_LEASE_SIZE),
                                     doc="the same for event batches, which the api then sends to the event queue itself; 1: none")
    backend_failures: int = setting("BACKEND_FAILURES", 3, integer, doc="failures in a row that take a backend out (api/backends.py)")
    backend_cooldown_seconds: float = setting("BACKEND_COOLDOWN_SECONDS", 30.0, number, doc="how long it stays out before a probe")
    admin_token: str | None = setting("ADMIN_TOKEN", None, text, secret=True, doc="the admin routes' bearer token (a secret)")
    jwt_secret: str | None = setting("JWT_SECRET", None, text, secret=True, doc="the HS256 key of JWTs (a secret)")


settings_of = PerIsolate(Settings.from_env)
