"""Provider routing and prices (shared/routing.py, shared/models.py): plain Python."""

import json

import pytest

from inference.external import ExternalProvider
from shared.models import CATALOG, TEXT_MODELS
from shared.routing import (
    WORKERS_AI,
    Provider,
    ProviderModel,
    Routing,
    RoutingConfigError,
    parse_provider_models,
    parse_providers,
    parse_rules,
)

SMALL, LARGE = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def routing(rules: list[dict], models: dict | None = None) -> Routing:
    mapped = parse_provider_models(json.dumps(models if models is not None else {"llama-3.3-70b": "big", "llama-3.1-8b": "small"}))
    return Routing(parse_rules(json.dumps(rules), {WORKERS_AI, "ext"}), [Provider(name="ext", url="https://ext.example/v1", models=mapped)])


def test_the_first_matching_rule_names_the_provider_and_workers_ai_is_the_default():
    rules = routing([{"provider": "ext", "complexity": "high"},
                     {"provider": "ext", "models": ["llama-3.3-70b"], "tiers": ["enterprise"]},
                     {"provider": "ext", "min_prompt_tokens": 1000}])

    assert rules.provider_for(SMALL, 10, "high", "free") == "ext"
    assert rules.provider_for(LARGE, 10, None, "enterprise") == "ext"  # the alias matched its catalog id
    assert rules.provider_for(LARGE, 10, None, "pro") == WORKERS_AI
    assert rules.provider_for(SMALL, 1000, None, "free") == "ext"
    assert rules.provider_for(SMALL, 999, "low", "free") == WORKERS_AI


def test_the_chosen_provider_is_tried_first_and_the_other_is_the_fallback():
    rules = routing([{"provider": "ext", "complexity": "high"}])

    assert rules.attempts(LARGE, [SMALL], 10, "high", "pro") == [("ext", LARGE), (WORKERS_AI, LARGE), (WORKERS_AI, SMALL), ("ext", SMALL)]
    assert rules.attempts(LARGE, [SMALL], 10, None, "pro") == [(WORKERS_AI, LARGE), (WORKERS_AI, SMALL), ("ext", LARGE), ("ext", SMALL)]


def test_a_model_the_provider_does_not_map_stays_on_workers_ai():
    rules = routing([{"provider": "ext", "complexity": "high"}], models={"llama-3.3-70b": "big"})

    assert rules.attempts(SMALL, [], 10, "high", "pro") == [(WORKERS_AI, SMALL)]
    assert Routing([], []).attempts(SMALL, [LARGE], 10, "high", "pro") == [(WORKERS_AI, SMALL), (WORKERS_AI, LARGE)]


def test_a_call_costs_its_tokens_at_the_catalog_price_or_the_provider_price():
    rules = routing([], models={"llama-3.3-70b": {"model": "big", "input_price": 1.0}, "llama-3.1-8b": "small"})

    assert rules.cost_usd(WORKERS_AI, LARGE, 1_000_000, 1_000_000) == pytest.approx(0.293 + 2.253)
    assert rules.cost_usd("ext", LARGE, 1_000_000, 1_000_000) == pytest.approx(1.0 + 2.253)  # output price: the catalog's
    assert rules.cost_usd("ext", SMALL, 2_000, 1_000) == pytest.approx(0.000474)
    assert rules.cost_usd(WORKERS_AI, "no-such-model", 10, 10) == 0


def test_every_model_of_the_catalog_has_a_price():
    assert all(model.input_price > 0 for model in CATALOG.values())
    assert all(model.output_price > 0 for model in TEXT_MODELS.values())


@pytest.mark.parametrize("rules, models, problem", [
    ('[{"provider": "nobody"}]', "{}", "ROUTING_RULES\\[0\\]: no provider 'nobody'"),
    ('[{"provider": "ext", "complexity": "extreme"}]', "{}", "ROUTING_RULES"),
    ("not json", "{}", "ROUTING_RULES"),
    ("[]", '{"no-such-model": "x"}', "PROVIDER_MODELS: no-such-model is not a model"),
    ("[]", '{"llama-3.1-8b": {"model": "x", "input_price": -1}}', "PROVIDER_MODELS"),
])
def test_a_routing_var_that_cannot_be_used_is_named(rules, models, problem):
    with pytest.raises(RoutingConfigError, match=problem):
        parse_rules(rules, {WORKERS_AI, "ext"})
        parse_provider_models(models)


def test_the_external_provider_is_given_the_sampling_options_in_openais_names():
    provider = ExternalProvider("ext", "https://llm.example/v1", None, {"m": ProviderModel(model="provider-m", input_price=0, output_price=0)})
    body = json.loads(provider._body("m", {"messages": [], "max_tokens": 9, "seed": 4, "top_p": 0.5, "temperature": 0}, stream=False))

    assert {k: body[k] for k in ("model", "max_tokens", "seed", "top_p", "temperature")} == \
        {"model": "provider-m", "max_tokens": 9, "seed": 4, "top_p": 0.5, "temperature": 0}


PROVIDERS = json.dumps([
    {"name": "together", "url": "https://api.together.xyz/v1", "key_secret": "TOGETHER_API_KEY", "cooldown_seconds": 60,
     "models": {"llama-3.3-70b": {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "input_price": 0.88, "output_price": 0.88}}},
    {"name": "groq", "url": "https://api.groq.com/openai/v1", "key_secret": "GROQ_API_KEY", "failures": 1,
     "models": {"llama-3.3-70b": "llama-3.3-70b-versatile", "llama-3.1-8b": "llama-3.1-8b-instant"}},
])


def test_any_number_of_providers_each_with_its_models_prices_key_and_circuit():
    together, groq = parse_providers(PROVIDERS)

    assert (together.name, together.key_secret, together.cooldown_seconds, together.failures) == ("together", "TOGETHER_API_KEY", 60, 3)
    assert together.models[LARGE].input_price == 0.88
    assert (groq.cooldown_seconds, groq.failures, groq.models[SMALL].model) == (30, 1, "llama-3.1-8b-instant")
    rules = Routing(parse_rules('[{"provider": "groq", "tiers": ["enterprise"]}]', {WORKERS_AI, "together", "groq"}),
                    [together, groq])
    assert rules.cost_usd("together", LARGE, 1_000_000, 1_000_000) == pytest.approx(1.76)
    assert rules.cost_usd("groq", LARGE, 1_000_000, 0) == pytest.approx(CATALOG[LARGE].input_price)


def test_the_chain_tries_each_model_on_every_provider_in_order_the_chosen_one_first():
    rules = Routing(parse_rules('[{"provider": "groq", "tiers": ["enterprise"]}]', {WORKERS_AI, "together", "groq"}),
                    parse_providers(PROVIDERS))

    assert rules.attempts(LARGE, [SMALL], 10, None, "pro") == [
        (WORKERS_AI, LARGE), (WORKERS_AI, SMALL), ("together", LARGE), ("groq", LARGE), ("groq", SMALL)]
    assert rules.attempts(LARGE, [SMALL], 10, None, "enterprise") == [
        ("groq", LARGE), (WORKERS_AI, LARGE), (WORKERS_AI, SMALL), ("together", LARGE), ("groq", SMALL)]


def test_the_single_provider_vars_still_configure_one_provider():
    [single] = parse_providers(None, "https://provider.example/v1", "ext", '{"llama-3.1-8b": "small"}')

    assert (single.name, single.url, single.key_secret) == ("ext", "https://provider.example/v1", "PROVIDER_API_KEY")
    assert single.models[SMALL].model == "small"
    assert parse_providers(None, "https://provider.example/v1")[0].name == "external"
    assert parse_providers(None) == []


@pytest.mark.parametrize("providers, url, problem", [
    (PROVIDERS, "https://provider.example/v1", "PROVIDERS and PROVIDER_URL are both set: list PROVIDER_URL's provider in PROVIDERS"),
    ('[{"name": "a", "url": "u"}, {"name": "a", "url": "v"}]', None, "more than one provider named a"),
    ('[{"name": "workers-ai", "url": "u"}]', None, "(?s)PROVIDERS: .*Workers AI's name"),
    ('[{"name": "a", "url": "u", "models": {"no-such-model": "x"}}]', None, "no-such-model is not a model of the catalog"),
    ('[{"name": "a", "url": "u", "cooldown_seconds": -1}]', None, "(?s)PROVIDERS: .*cooldown_seconds"),
    ('[{"name": "a"}]', None, "(?s)PROVIDERS: .*url"),
])
def test_a_providers_var_that_cannot_be_used_is_named(providers, url, problem):
    with pytest.raises(RoutingConfigError, match=problem):
        parse_providers(providers, url)
