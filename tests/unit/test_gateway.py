"""AI Gateway's option for the Workers AI binding (inference/gateway.py), as its docs give it:
`env.AI.run(model, inputs, {gateway: {id, skipCache, cacheTtl, metadata}})`."""

from types import SimpleNamespace

import pytest

from inference.gateway import GatewayConfigError, gateway_options, parse_metadata
from inference.settings import Settings


def test_without_a_gateway_id_calls_go_direct():
    assert gateway_options(None, True, 60, {"a": 1}) is None
    assert Settings.from_env(SimpleNamespace()).ai_gateway_id is None


def test_the_gateway_option_carries_only_what_is_set():
    assert gateway_options("my-gateway", False, None, None) == {"gateway": {"id": "my-gateway"}}
    assert gateway_options("my-gateway", True, 3600, {"team": "web", "tier": 2}) == {
        "gateway": {"id": "my-gateway", "skipCache": True, "cacheTtl": 3600, "metadata": {"team": "web", "tier": 2}}}


def test_the_settings_read_every_gateway_var():
    settings = Settings.from_env(SimpleNamespace(AI_GATEWAY_ID="gw", AI_GATEWAY_SKIP_CACHE="true", AI_GATEWAY_CACHE_TTL="120",
                                                 AI_GATEWAY_METADATA='{"app": "shop"}'))

    assert gateway_options(settings.ai_gateway_id, settings.ai_gateway_skip_cache, settings.ai_gateway_cache_ttl,
                           settings.ai_gateway_metadata) == {
        "gateway": {"id": "gw", "skipCache": True, "cacheTtl": 120, "metadata": {"app": "shop"}}}


@pytest.mark.parametrize("text, problem", [
    ('{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}', "at most 5 entries"),
    ('["a"]', "a JSON object"),
    ('{"nested": {"a": 1}}', "nested must be a string, a number or a boolean"),
    ("not json", "AI_GATEWAY_METADATA"),
])
def test_metadata_the_gateway_would_refuse_is_named(text, problem):
    with pytest.raises(GatewayConfigError, match=problem):
        parse_metadata(text)
