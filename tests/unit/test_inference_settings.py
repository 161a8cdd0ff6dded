from types import SimpleNamespace

from inference.settings import Settings, settings_of


def test_settings_are_parsed_with_defaults_for_missing_or_empty_vars():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b, ", MODEL_ATTEMPTS="3", RETRY_BACKOFF_MS="0", KEY_CACHE_SECONDS="",
                          EVENTS_ENRICHMENT="TRUE", ANALYTICS_CACHE_SECONDS="5", TIER_PRO_TOKENS_PER_DAY="9")

    settings = Settings.from_env(env)

    assert settings.fallback_models == ("@cf/meta/llama-3.3-70b-instruct-fp8-fast",)
    assert (settings.model_attempts, settings.retry_backoff_ms) == (3, 0)
    assert settings.key_cache_seconds == 30  # empty: the default
    assert settings.events_enrichment is True
    assert settings.analytics_cache_seconds == 60  # KV keeps nothing shorter
    assert settings.limits_for("pro").tokens_per_day == 9
    assert settings.default_model == "@cf/meta/llama-3.1-8b-instruct-fast"


def test_an_env_is_parsed_once():
    env = SimpleNamespace(MODEL_ATTEMPTS="4")
    first = settings_of(env)
    env.MODEL_ATTEMPTS = "9"  # vars cannot change while an isolate lives; a change is not seen

    assert settings_of(env) is first
    assert first.model_attempts == 4
