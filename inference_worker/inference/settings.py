"""Every setting of the inference worker, in one place: read from its env (wrangler.toml [vars];
locally --var) into a frozen dataclass, once per env object (the runtime's lives across the
isolate's calls; a test's fake env is parsed for that test). A var that is missing or empty
takes the default written here."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inference.isolate import PerIsolate
from shared.models import DEFAULT_TEXT_MODEL, parse_model_list
from shared.routing import WORKERS_AI, Routing, parse_provider_models, parse_rules
from shared.tiers import TIERS, TierLimits, limits_for


def _var(env: Any, name: str) -> str | None:
    value = getattr(env, name, None)
    return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class Settings:
    default_model: str = DEFAULT_TEXT_MODEL  # DEFAULT_MODEL: what the health check and enrichment use
    fallback_models: tuple[str, ...] = ()  # FALLBACK_MODELS: tried in order after a transient failure
    model_attempts: int = 2  # MODEL_ATTEMPTS: per model, before falling back
    retry_backoff_ms: float = 200  # RETRY_BACKOFF_MS: the base of the exponential backoff
    model_idle_timeout_ms: float = 30_000  # MODEL_IDLE_TIMEOUT_MS: a silent model stream ends after it
    stream_timeout_ms: float = 300_000  # STREAM_TIMEOUT_MS: a streamed answer ends this long after its request; 0: never
    # STREAM_FLUSH_MS: a model chunk within this long of the one before switches its stream to
    # batches, read at most this often (inference/streaming.py); 0 relays every chunk on its own.
    stream_flush_ms: float = 10
    generation_cache_ttl_seconds: int = 86_400  # GENERATION_CACHE_TTL_SECONDS
    # GENERATION_CACHE_SCOPE: "caller" (anything else) keeps a cached answer for the caller that
    # asked; "shared" serves it to every caller sending the same request (inference/cache.py).
    generation_cache_shared: bool = False
    analytics_cache_seconds: int = 60  # ANALYTICS_CACHE_SECONDS (KV's minimum is 60)
    events_enrichment: bool = False  # EVENTS_ENRICHMENT: sentiment labels for free text (billed calls)
    # EVENTS_ENRICHMENT_MAX_PER_BATCH: each label writes an Analytics Engine point in the batch's
    # invocation; events.py leaves room for this many within Analytics Engine's 25 writes.
    events_enrichment_max_per_batch: int = 5
    key_cache_seconds: float = 30  # KEY_CACHE_SECONDS: verified (and unknown) key prefixes kept per isolate
    health_ai_probe_ttl_seconds: float = 60  # HEALTH_AI_PROBE_TTL_SECONDS: at most one AI probe per this
    # EVENT_RETRY_BASE_SECONDS: a batch the queue consumer could not index is retried after this,
    # then twice as long each time (inference/events/consumer.py)
    event_retry_base_seconds: float = 2
    # EVENT_DEAD_LETTER_QUEUE: the queue whose messages the consumer hands to the replay
    event_dead_letter_queue: str = "inference-ui-events-dlq"
    # EVENTS_RETENTION_DAYS: raw events older than this are deleted by the cron (their batches stay
    # in R2; hourly rollups keep their counts for metrics)
    events_retention_days: float = 30
    tiers: Mapping[str, TierLimits] = field(default_factory=lambda: dict(TIERS))  # with TIER_<TIER>_<LIMIT> applied
    # The external OpenAI-compatible provider and the rules that send generations there (shared/routing.py).
    provider_name: str = "external"  # PROVIDER_NAME
    provider_url: str | None = None  # PROVIDER_URL: its base URL; none: Workers AI only
    provider_api_key: str | None = field(default=None, repr=False)  # secret PROVIDER_API_KEY
    routing: Routing = field(default_factory=lambda: Routing([], None, {}))  # ROUTING_RULES, PROVIDER_MODELS

    def limits_for(self, tier: str) -> TierLimits:
        return self.tiers.get(tier, self.tiers["free"])

    @classmethod
    def from_env(cls, env: Any) -> "Settings":
        defaults = cls()

        def number(name: str, default: float) -> float:
            value = _var(env, name)
            return float(value) if value is not None else default

        provider_name = _var(env, "PROVIDER_NAME") or defaults.provider_name
        provider_url = _var(env, "PROVIDER_URL")
        return cls(
            default_model=_var(env, "DEFAULT_MODEL") or defaults.default_model,
            fallback_models=tuple(parse_model_list(_var(env, "FALLBACK_MODELS") or "")),
            model_attempts=int(number("MODEL_ATTEMPTS", defaults.model_attempts)),
            retry_backoff_ms=number("RETRY_BACKOFF_MS", defaults.retry_backoff_ms),
            model_idle_timeout_ms=number("MODEL_IDLE_TIMEOUT_MS", defaults.model_idle_timeout_ms),
            stream_timeout_ms=number("STREAM_TIMEOUT_MS", defaults.stream_timeout_ms),
            stream_flush_ms=max(0.0, number("STREAM_FLUSH_MS", defaults.stream_flush_ms)),
            generation_cache_ttl_seconds=int(number("GENERATION_CACHE_TTL_SECONDS", defaults.generation_cache_ttl_seconds)),
            generation_cache_shared=(_var(env, "GENERATION_CACHE_SCOPE") or "caller").strip().lower() == "shared",
            analytics_cache_seconds=max(60, int(number("ANALYTICS_CACHE_SECONDS", defaults.analytics_cache_seconds))),
            events_enrichment=(_var(env, "EVENTS_ENRICHMENT") or "false").lower() == "true",
            events_enrichment_max_per_batch=int(number("EVENTS_ENRICHMENT_MAX_PER_BATCH", defaults.events_enrichment_max_per_batch)),
            key_cache_seconds=number("KEY_CACHE_SECONDS", defaults.key_cache_seconds),
            health_ai_probe_ttl_seconds=number("HEALTH_AI_PROBE_TTL_SECONDS", defaults.health_ai_probe_ttl_seconds),
            event_retry_base_seconds=number("EVENT_RETRY_BASE_SECONDS", defaults.event_retry_base_seconds),
            event_dead_letter_queue=_var(env, "EVENT_DEAD_LETTER_QUEUE") or defaults.event_dead_letter_queue,
            events_retention_days=number("EVENTS_RETENTION_DAYS", defaults.events_retention_days),
            tiers={tier: limits_for(tier, lambda name: _var(env, name)) for tier in TIERS},
            provider_name=provider_name,
            provider_url=provider_url,
            provider_api_key=_var(env, "PROVIDER_API_KEY"),
            routing=Routing(parse_rules(_var(env, "ROUTING_RULES"), {WORKERS_AI, *([provider_name] if provider_url else [])}),
                            provider_name if provider_url else None, parse_provider_models(_var(env, "PROVIDER_MODELS"))),
        )


# Parsed once per isolate.
settings_of = PerIsolate(Settings.from_env)
