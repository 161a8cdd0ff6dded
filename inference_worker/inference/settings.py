"""Every setting of the inference worker, one line each (shared/config.py): read from its env
(wrangler.toml [vars] and secrets; locally --var) once per isolate (a test's fake env is parsed
for that test)."""

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import EnvSettings, VarReader, clamped, derived, flag, integer, number, setting, text
from shared.isolate import PerIsolate
from shared.models import DEFAULT_TEXT_MODEL, parse_model_list
from shared.payloads import PayloadPolicy
from shared.routing import WORKERS_AI, Routing, parse_provider_models, parse_rules
from shared.tiers import TIER_VARS, TIERS, TierLimits, limits_for


def _models(value: str) -> tuple[str, ...]:
    return tuple(parse_model_list(value))


def _shared_scope(value: str) -> bool:
    return value.strip().lower() == "shared"


def _tiers(_settings: object, var: VarReader) -> Mapping[str, TierLimits]:
    return {tier: limits_for(tier, var) for tier in TIERS}


def _payloads(settings: "Settings", var: VarReader) -> PayloadPolicy:
    return PayloadPolicy.parse(var("PAYLOAD_LOG_TIERS"), var("PAYLOAD_LOG_KEYS"), settings.payload_retention_days)


def _routing(settings: "Settings", var: VarReader) -> Routing:
    provider = settings.provider_name if settings.provider_url else None
    providers = {WORKERS_AI, *([provider] if provider else [])}
    return Routing(parse_rules(var("ROUTING_RULES"), providers), provider, parse_provider_models(var("PROVIDER_MODELS")))


@dataclass(frozen=True)
class Settings(EnvSettings):
    default_model: str = setting("DEFAULT_MODEL", DEFAULT_TEXT_MODEL, text, doc="the model the health check and enrichment use")
    fallback_models: tuple[str, ...] = setting("FALLBACK_MODELS", (), _models, doc="tried in order after a transient failure")
    model_attempts: int = setting("MODEL_ATTEMPTS", 2, integer, doc="attempts per model, before falling back")
    retry_backoff_ms: float = setting("RETRY_BACKOFF_MS", 200.0, number, doc="the base of the exponential backoff")
    model_idle_timeout_ms: float = setting("MODEL_IDLE_TIMEOUT_MS", 30_000.0, number, doc="a silent model stream ends after it")
    stream_timeout_ms: float = setting("STREAM_TIMEOUT_MS", 300_000.0, number,
                                       doc="a streamed answer ends this long after its request; 0: never")
    stream_flush_ms: float = setting("STREAM_FLUSH_MS", 10.0, clamped(number, 0.0),
                                     doc="chunks closer than this are relayed in batches, this often (inference/streaming.py); 0: never")
    generation_cache_ttl_seconds: int = setting("GENERATION_CACHE_TTL_SECONDS", 86_400, integer,
                                                doc="how long a deterministic answer is cached")
    generation_cache_shared: bool = setting("GENERATION_CACHE_SCOPE", False, _shared_scope,
                                            doc='"shared": a cached answer serves every caller; else only the one that asked')
    analytics_cache_seconds: int = setting("ANALYTICS_CACHE_SECONDS", 60, clamped(integer, 60),
                                           doc="how long an analytics answer is cached (KV's minimum is 60)")
    events_enrichment: bool = setting("EVENTS_ENRICHMENT", False, flag, doc="sentiment labels for free text (billed model calls)")
    events_enrichment_max_per_batch: int = setting("EVENTS_ENRICHMENT_MAX_PER_BATCH", 5, integer,
                                                   doc="labels a batch at most: each writes an Analytics Engine point (25 an invocation)")
    key_cache_seconds: float = setting("KEY_CACHE_SECONDS", 30.0, number, doc="how long verified (and unknown) key prefixes are kept")
    health_ai_probe_ttl_seconds: float = setting("HEALTH_AI_PROBE_TTL_SECONDS", 60.0, number, doc="at most one health AI probe per this")
    event_retry_base_seconds: float = setting("EVENT_RETRY_BASE_SECONDS", 2.0, number,
                                              doc="an unindexed batch's first retry delay, doubling each time")
    event_dead_letter_queue: str = setting("EVENT_DEAD_LETTER_QUEUE", "inference-ui-events-dlq", text,
                                           doc="the queue whose messages the consumer hands to the replay")
    events_retention_days: float = setting("EVENTS_RETENTION_DAYS", 30.0, number,
                                           doc="raw events older than this are deleted by the cron (R2 and the rollups keep them)")
    provider_name: str = setting("PROVIDER_NAME", "external", text, doc="the external OpenAI-compatible provider's name in ROUTING_RULES")
    provider_url: str | None = setting("PROVIDER_URL", None, text, doc="its base URL; none: Workers AI only")
    provider_api_key: str | None = setting("PROVIDER_API_KEY", None, text, secret=True, doc="its API key (a secret)")
    routing: Routing = derived(_routing, lambda: Routing([], None, {}), vars=("ROUTING_RULES", "PROVIDER_MODELS"),
                               doc="which generations go to the provider, and its models (shared/routing.py)")
    payload_retention_days: float = setting("PAYLOAD_RETENTION_DAYS", 7.0, number,
                                            doc="how long kept prompts and answers stay in R2 before the cron deletes them; 0: none kept")
    payloads: PayloadPolicy = derived(_payloads, PayloadPolicy, vars=("PAYLOAD_LOG_TIERS", "PAYLOAD_LOG_KEYS"),
                                      doc="the tiers and key ids whose prompts and answers are kept, redacted (shared/payloads.py)")
    tiers: Mapping[str, TierLimits] = derived(_tiers, lambda: dict(TIERS), vars=TIER_VARS, doc="shared/tiers.py's limits, overridden")

    def limits_for(self, tier: str) -> TierLimits:
        return self.tiers.get(tier, self.tiers["free"])


settings_of = PerIsolate(Settings.from_env)
