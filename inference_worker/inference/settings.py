"""Every setting of the inference worker, one line each (shared/config.py): read from its env
(wrangler.toml [vars] and secrets; locally --var) once per isolate (a test's fake env is parsed
for that test)."""

from collections.abc import Mapping
from dataclasses import dataclass

from inference.cache_scopes import CacheScopes, CallerSet, cache_scopes, semantic_callers
from inference.gateway import parse_metadata
from shared.config import EnvSettings, VarReader, clamped, derived, flag, integer, number, setting, text
from shared.guardrails import Guardrails, parse_guardrails
from shared.isolate import PerIsolate
from shared.models import DEFAULT_TEXT_MODEL, parse_model_list
from shared.payloads import PayloadPolicy
from shared.routing import WORKERS_AI, Routing, parse_providers, parse_rules
from shared.splits import Split, parse_splits
from shared.tiers import TIER_VARS, TIERS, TierLimits, limits_for


def _models(value: str) -> tuple[str, ...]:
    return tuple(parse_model_list(value))


def _tiers(_settings: object, var: VarReader) -> Mapping[str, TierLimits]:
    return {tier: limits_for(tier, var) for tier in TIERS}


ROUTING_VARS = ("PROVIDERS", "PROVIDER_URL", "PROVIDER_NAME", "PROVIDER_MODELS", "ROUTING_RULES")


def _routing(_settings: object, var: VarReader) -> Routing:
    providers = parse_providers(var("PROVIDERS"), var("PROVIDER_URL"), var("PROVIDER_NAME"), var("PROVIDER_MODELS"))
    rules = parse_rules(var("ROUTING_RULES"), {WORKERS_AI, *(provider.name for provider in providers)})
    return Routing(rules, providers)


def _splits(settings: "Settings", var: VarReader) -> list[Split]:
    providers = {WORKERS_AI, *_routing(settings, var).providers}
    return parse_splits(var("TRAFFIC_SPLITS"), providers)


def _guardrails(_settings: object, var: VarReader) -> Guardrails:
    return parse_guardrails(given) if (given := var("GUARDRAILS")) else Guardrails()


def _payloads(settings: "Settings", var: VarReader) -> PayloadPolicy:
    return PayloadPolicy.parse(var("PAYLOAD_LOG_TIERS"), var("PAYLOAD_LOG_KEYS"), settings.payload_retention_days)


@dataclass(frozen=True)
class Settings(EnvSettings):
    default_model: str = setting("DEFAULT_MODEL", DEFAULT_TEXT_MODEL, text, doc="the model the health check and enrichment use")
    fallback_models: tuple[str, ...] = setting("FALLBACK_MODELS", (), _models, doc="tried in order after a transient failure")
    model_attempts: int = setting("MODEL_ATTEMPTS", 2, integer, doc="attempts per model, before falling back")
    retry_backoff_ms: float = setting("RETRY_BACKOFF_MS", 200.0, number, doc="the base of the exponential backoff")
    model_idle_timeout_ms: float = setting("MODEL_IDLE_TIMEOUT_MS", 30_000.0, number, doc="a silent model stream ends after it")
    stream_timeout_ms: float = setting("STREAM_TIMEOUT_MS", 300_000.0, number,
                                       doc="a streamed answer ends this long after its request; 0: never")
    rpc_latency_flush_seconds: float = setting("RPC_LATENCY_FLUSH_SECONDS", 60.0, clamped(number, 0.0),
                                               doc="how often an isolate writes its RPC latency counts to D1 at most "
                                                   "(shared/rpc_latency.py)")
    usage_flush_ms: float = setting("USAGE_FLUSH_MS", 500.0, clamped(number, 0.0),
                                    doc="a model call's usage reaches its key's counter and D1 within this, batched per isolate "
                                        "(inference/usage_batch.py); 0: at once")
    stream_flush_ms: float = setting("STREAM_FLUSH_MS", 10.0, clamped(number, 0.0),
                                     doc="chunks closer than this are relayed in batches, this often (inference/streaming.py); 0: never")
    generation_cache_ttl_seconds: int = setting("GENERATION_CACHE_TTL_SECONDS", 86_400, integer,
                                                doc="how long a deterministic answer is cached")
    generation_cache_scopes: CacheScopes = setting("GENERATION_CACHE_SCOPE", CacheScopes(), cache_scopes,
                                                   doc='"caller" (each caller its own answers), "shared", or pools of callers '
                                                       '(inference/cache_scopes.py)')
    generation_cache_edge: bool = setting("GENERATION_CACHE_EDGE", False, flag,
                                          doc="answers are also kept in the data center's Cache API, read before KV (store/edge.py)")
    semantic_cache: CallerSet = setting("SEMANTIC_CACHE", CallerSet(), semantic_callers,
                                        doc="the callers (tier:<name>, key:<id>, *) whose similar questions are answered from the cache")
    semantic_cache_threshold: float = setting("SEMANTIC_CACHE_THRESHOLD", 0.9, number,
                                              doc="the least cosine similarity of a question to an earlier one for its answer to serve")
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
    ai_gateway_id: str | None = setting("AI_GATEWAY_ID", None, text, doc="the AI Gateway every Workers AI call goes through; none: direct")
    ai_gateway_skip_cache: bool = setting("AI_GATEWAY_SKIP_CACHE", False, flag, doc="the gateway's cache is not read for these calls")
    ai_gateway_cache_ttl: int | None = setting("AI_GATEWAY_CACHE_TTL", None, clamped(integer, 0),
                                               doc="how long the gateway caches an answer, in seconds; none: the gateway's own setting")
    ai_gateway_metadata: Mapping[str, str | int | float | bool] | None = setting(
        "AI_GATEWAY_METADATA", None, parse_metadata, doc="custom metadata on every gateway log (a JSON object, 5 entries at most)")
    routing: Routing = derived(_routing, lambda: Routing([], []), vars=ROUTING_VARS,
                               doc="the external providers (their keys in the secrets they name), and which "
                                   "generations go to each (shared/routing.py)")
    alert_webhook_url: str | None = setting("ALERT_WEBHOOK_URL", None, text,
                                            doc="where alerts are POSTed (inference/alerts.py); none: alerts are only listed")
    alert_webhook_secret: str | None = setting("ALERT_WEBHOOK_SECRET", None, text, secret=True,
                                               doc="the HMAC-SHA256 key of the webhook's x-alert-signature (a secret)")
    alert_queue: str = setting("ALERT_QUEUE_NAME", "inference-ui-alerts", text, doc="the queue whose messages are alerts to POST")
    splits: list[Split] = derived(_splits, list, vars=("TRAFFIC_SPLITS",),
                                  doc="weighted routes between models or providers, sticky per caller or conversation (shared/splits.py)")
    guardrails: Guardrails = derived(_guardrails, Guardrails, vars=("GUARDRAILS",),
                                     doc="whose prompts and answers the moderation model checks, by tier or key (shared/guardrails.py)")
    payload_retention_days: float = setting("PAYLOAD_RETENTION_DAYS", 7.0, number,
                                            doc="how long kept prompts and answers stay in R2 before the cron deletes them; 0: none kept")
    payloads: PayloadPolicy = derived(_payloads, PayloadPolicy, vars=("PAYLOAD_LOG_TIERS", "PAYLOAD_LOG_KEYS"),
                                      doc="the tiers and key ids whose prompts and answers are kept, redacted (shared/payloads.py)")
    tiers: Mapping[str, TierLimits] = derived(_tiers, lambda: dict(TIERS), vars=TIER_VARS, doc="shared/tiers.py's limits, overridden")

    def limits_for(self, tier: str) -> TierLimits:
        return self.tiers.get(tier, self.tiers["free"])


settings_of = PerIsolate(Settings.from_env)
