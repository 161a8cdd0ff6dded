from types import SimpleNamespace

from api.settings import Settings


def test_every_setting_is_parsed_once_from_the_env_with_its_default_when_missing_or_empty():
    env = SimpleNamespace(DEFAULT_MODEL="", INFERENCE_TIMEOUT_MS="3000", ALLOWED_ORIGINS="https://a.example/, *",
                          JWT_ISSUER="me", GRAPHQL_INTROSPECTION="false", EVENTS_MAX_BATCH="50", ADMIN_TOKEN="s3cret",
                          TIER_FREE_REQUESTS_PER_MINUTE="7", EVENTS_LEASE_SIZE="500", READ_LEASE_SIZE="0")

    settings = Settings.from_env(env)

    assert settings.default_model == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert settings.inference_timeout_ms == 3000
    assert settings.allowed_origins == frozenset({"https://a.example", "*"})
    assert (settings.jwt_issuer, settings.jwt_audience) == ("me", None)
    assert settings.graphql_introspection is False
    assert (settings.events_max_batch, settings.events_max_body_bytes) == (50, 1_048_576)
    assert not hasattr(settings, "limits_for")  # a caller's limits come with its admission (api/admission.py)
    assert (settings.events_lease_size, settings.read_lease_size) == (100, 1)  # at most MAX_LEASE_SIZE; at least none ahead
    assert "s3cret" not in repr(settings)  # secrets stay out of any log of the settings
