"""Which provider runs a generation: Workers AI (the AI binding) or one of the external
OpenAI-compatible providers, chosen by rules, with the others as the fallbacks before the first
token. Plain Python: the inference worker parses the settings once (inference/settings.py) and
asks `attempts` for each request.

Configuration (inference_worker/wrangler.toml [vars]; keys are secrets):
- PROVIDERS: JSON list, any number of providers, each
  {"name": "together", "url": "https://api.together.xyz/v1", "key_secret": "TOGETHER_API_KEY",
   "models": {...as PROVIDER_MODELS...}, "cooldown_seconds": 30, "failures": 3}:
  its name (in ROUTING_RULES, usage and logs), base URL, the secret holding its key (sent as
  `Authorization: Bearer`), its models, and its circuit: after `failures` failures in a row it is
  passed over for `cooldown_seconds` (inference/ai_client.py).
- PROVIDER_URL, PROVIDER_NAME (default "external"), PROVIDER_MODELS, secret PROVIDER_API_KEY: one
  provider, as PROVIDERS would list it with "key_secret": "PROVIDER_API_KEY"; not with PROVIDERS.
- a provider's models: JSON, catalog model (id or alias) -> the provider's model, as a name or as
  {"model": name, "input_price": $ per M tokens, "output_price": ...}; only these models can
  go there. Without prices, the catalog's are used.
- ROUTING_RULES: JSON list; the first rule whose every condition holds names the provider:
  {"provider": "together", "models": [...], "min_prompt_tokens": 4000, "complexity": "high",
   "tiers": ["enterprise"]}. No rule matching: Workers AI.
"""

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, TypeAdapter, field_validator

from shared.base import Model
from shared.json_reader import parse_json_as, parse_var_as
from shared.limits import MAX_BODY_BYTES
from shared.models import ALIASES, CATALOG, MODERATION_MODELS, price_of

WORKERS_AI = "workers-ai"
Complexity = Literal["low", "normal", "high"]


class ProviderModel(Model):
    model: str = Field(min_length=1)
    input_price: float | None = Field(default=None, ge=0)
    output_price: float | None = Field(default=None, ge=0)


LEGACY_KEY_SECRET = "PROVIDER_API_KEY"
DEFAULT_PROVIDER_NAME = "external"


class Provider(Model):
    """One external OpenAI-compatible provider, as configured (its key stays in its secret)."""

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    key_secret: str | None = None
    models: dict[str, ProviderModel] = {}
    cooldown_seconds: float = Field(default=30.0, ge=0)
    failures: int = Field(default=3, ge=1)

    @field_validator("name")
    @classmethod
    def _not_workers_ai(cls, name: str) -> str:
        if name == WORKERS_AI:
            raise ValueError(f"{WORKERS_AI!r} is Workers AI's name")
        return name

    @field_validator("models", mode="before")
    @classmethod
    def _catalog_models(cls, models: object) -> object:
        return _mapped_models(models, "models") if isinstance(models, dict) else models


class Rule(Model):
    provider: str
    models: list[str] | None = None
    min_prompt_tokens: int | None = Field(default=None, ge=0)
    complexity: Complexity | None = None
    tiers: list[str] | None = None

    @field_validator("models")
    @classmethod
    def _catalog_ids(cls, models: list[str] | None) -> list[str] | None:
        return None if models is None else [ALIASES.get(m, m) for m in models]

    def matches(self, model: str, prompt_tokens: int, complexity: str | None, tier: str) -> bool:
        return ((self.models is None or model in self.models)
                and (self.min_prompt_tokens is None or prompt_tokens >= self.min_prompt_tokens)
                and (self.complexity is None or complexity == self.complexity)
                and (self.tiers is None or tier in self.tiers))


class RoutingConfigError(ValueError):
    """A routing var that cannot be used: named, so the log says which and why."""


def _mapped_models(raw: Mapping[str, object], where: str) -> dict[str, object]:
    """Catalog ids (an alias resolved) -> the provider's model ({"model": name} for a bare name)."""
    mapped: dict[str, object] = {}
    for name, target in raw.items():
        model = ALIASES.get(name, name)
        if model not in CATALOG:
            raise ValueError(f"{where}: {name} is not a model of the catalog (shared/models.py)")
        mapped[model] = {"model": target} if isinstance(target, str) else target
    return mapped


# Built at import, as the models' validators are (shared/base.py).
_PROVIDER_MODELS: TypeAdapter[dict[str, str | ProviderModel]] = TypeAdapter(dict[str, str | ProviderModel])
_PROVIDERS: TypeAdapter[list[Provider]] = TypeAdapter(list[Provider])
_RULES: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])


def parse_provider_models(text: str | None) -> dict[str, ProviderModel]:
    if not text:
        return {}
    try:
        raw = parse_json_as(_PROVIDER_MODELS, text, max_bytes=MAX_BODY_BYTES, field="PROVIDER_MODELS")
        return {model: ProviderModel.model_validate(target) for model, target in _mapped_models(raw, "PROVIDER_MODELS").items()}
    except ValueError as exc:
        raise RoutingConfigError(str(exc) if str(exc).startswith("PROVIDER_MODELS") else f"PROVIDER_MODELS: {exc}") from None


def parse_providers(text: str | None, single_url: str | None = None, single_name: str | None = None,
                    single_models: str | None = None) -> list[Provider]:
    """PROVIDERS, or the one provider of PROVIDER_URL (with PROVIDER_NAME and PROVIDER_MODELS, its
    key in the PROVIDER_API_KEY secret); both set is refused, saying how to move to PROVIDERS."""
    if text and single_url:
        raise RoutingConfigError("PROVIDERS and PROVIDER_URL are both set: list PROVIDER_URL's provider in PROVIDERS "
                                 f'(with "key_secret": "{LEGACY_KEY_SECRET}") and unset PROVIDER_URL, PROVIDER_NAME '
                                 "and PROVIDER_MODELS")
    if single_url:
        return [Provider(name=single_name or DEFAULT_PROVIDER_NAME, url=single_url, key_secret=LEGACY_KEY_SECRET,
                         models=parse_provider_models(single_models))]
    if not text:
        return []
    providers = parse_var_as(_PROVIDERS, text, "PROVIDERS", RoutingConfigError)
    names = [provider.name for provider in providers]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise RoutingConfigError(f"PROVIDERS: more than one provider named {', '.join(duplicated)}")
    return providers


def parse_rules(text: str | None, providers: set[str]) -> list[Rule]:
    if not text:
        return []
    rules = parse_var_as(_RULES, text, "ROUTING_RULES", RoutingConfigError)
    for index, rule in enumerate(rules):
        if rule.provider not in providers:
            raise RoutingConfigError(f"ROUTING_RULES[{index}]: no provider {rule.provider!r} (configured: {sorted(providers)})")
    return rules


class Routing:
    """The rules and the external providers, as configured."""

    def __init__(self, rules: list[Rule], providers: list[Provider]) -> None:
        self.rules = rules
        self.providers = {provider.name: provider for provider in providers}  # in the configured order

    def provider_for(self, model: str, prompt_tokens: int, complexity: str | None, tier: str) -> str:
        for rule in self.rules:
            if rule.matches(model, prompt_tokens, complexity, tier):
                return rule.provider
        return WORKERS_AI

    def attempts(self, model: str, fallbacks: list[str], prompt_tokens: int, complexity: str | None,
                 tier: str) -> list[tuple[str, str]]:
        """(provider, catalog model) in the order to try: the requested model on the provider the
        rules chose first; then Workers AI's chain (the model, then its fallbacks: FALLBACK_MODELS);
        then the providers' own, each model of the chain on every provider that maps it, in the
        order PROVIDERS lists them."""
        chain = [model, *fallbacks]
        workers_ai = [(WORKERS_AI, m) for m in chain]
        external = [(p.name, m) for m in chain for p in self.providers.values() if m in p.models]
        chosen = (self.provider_for(model, prompt_tokens, complexity, tier), model)
        if chosen in external:
            return [chosen] + workers_ai + [attempt for attempt in external if attempt != chosen]
        return workers_ai + external

    def cost_usd(self, provider: str, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        info = CATALOG.get(model) or MODERATION_MODELS.get(model)
        input_price = info.input_price if info else 0.0
        output_price = info.output_price if info else 0.0
        configured = self.providers.get(provider)
        if configured is not None and (mapped := configured.models.get(model)):
            input_price = input_price if mapped.input_price is None else mapped.input_price
            output_price = output_price if mapped.output_price is None else mapped.output_price
        return price_of(prompt_tokens, completion_tokens, input_price, output_price)
