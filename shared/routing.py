"""Which provider runs a generation: Workers AI (the AI binding) or one external
OpenAI-compatible provider, chosen by rules, with the other as the fallback before the first
token. Plain Python: the inference worker parses the settings once (inference/settings.py) and
asks `attempts` for each request.

Configuration (inference_worker/wrangler.toml [vars]; the key is a secret):
- PROVIDER_URL: the provider's base URL (".../v1"); empty: Workers AI only.
- PROVIDER_NAME: how usage records and logs name it (default "external").
- PROVIDER_MODELS: JSON, catalog model (id or alias) -> the provider's model, as a name or as
  {"model": name, "input_price": $ per M tokens, "output_price": ...}; only these models can
  go there. Without prices, the catalog's are used.
- ROUTING_RULES: JSON list; the first rule whose every condition holds names the provider:
  {"provider": "external", "models": [...], "min_prompt_tokens": 4000, "complexity": "high",
   "tiers": ["enterprise"]}. No rule matching: Workers AI.
- secret PROVIDER_API_KEY: sent as `Authorization: Bearer`.
"""

from typing import Literal

from pydantic import Field, TypeAdapter, field_validator

from shared.base import Model
from shared.json_reader import parse_json_as
from shared.limits import MAX_BODY_BYTES
from shared.models import ALIASES, CATALOG, MODERATION_MODELS, price_of

WORKERS_AI = "workers-ai"
Complexity = Literal["low", "normal", "high"]


class ProviderModel(Model):
    model: str = Field(min_length=1)
    input_price: float | None = Field(default=None, ge=0)
    output_price: float | None = Field(default=None, ge=0)


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


# Built at import, as the models' validators are (shared/base.py).
_PROVIDER_MODELS: TypeAdapter[dict[str, str | ProviderModel]] = TypeAdapter(dict[str, str | ProviderModel])
_RULES: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])


def parse_provider_models(text: str | None) -> dict[str, ProviderModel]:
    if not text:
        return {}
    try:
        raw = parse_json_as(_PROVIDER_MODELS, text, max_bytes=MAX_BODY_BYTES, field="PROVIDER_MODELS")
    except ValueError as exc:
        raise RoutingConfigError(f"PROVIDER_MODELS: {exc}") from None
    mapped = {}
    for name, target in raw.items():
        model = ALIASES.get(name, name)
        if model not in CATALOG:
            raise RoutingConfigError(f"PROVIDER_MODELS: {name} is not a model of the catalog (shared/models.py)")
        mapped[model] = ProviderModel(model=target) if isinstance(target, str) else target
    return mapped


def parse_rules(text: str | None, providers: set[str]) -> list[Rule]:
    if not text:
        return []
    try:
        rules = parse_json_as(_RULES, text, max_bytes=MAX_BODY_BYTES, field="ROUTING_RULES")
    except ValueError as exc:
        raise RoutingConfigError(f"ROUTING_RULES: {exc}") from None
    for index, rule in enumerate(rules):
        if rule.provider not in providers:
            raise RoutingConfigError(f"ROUTING_RULES[{index}]: no provider {rule.provider!r} (configured: {sorted(providers)})")
    return rules


class Routing:
    """The rules and the external provider's models, as configured."""

    def __init__(self, rules: list[Rule], provider_name: str | None, provider_models: dict[str, ProviderModel]) -> None:
        self.rules = rules
        self.provider_name = provider_name  # None: no external provider configured
        self.provider_models = provider_models

    def provider_for(self, model: str, prompt_tokens: int, complexity: str | None, tier: str) -> str:
        for rule in self.rules:
            if rule.matches(model, prompt_tokens, complexity, tier):
                return rule.provider
        return WORKERS_AI

    def attempts(self, model: str, fallbacks: list[str], prompt_tokens: int, complexity: str | None,
                 tier: str) -> list[tuple[str, str]]:
        """(provider, catalog model) in the order to try: the chosen provider first, the other
        after it. Workers AI tries the model and then its fallbacks (FALLBACK_MODELS); the
        external provider the model itself, if PROVIDER_MODELS maps it."""
        workers_ai = [(WORKERS_AI, m) for m in [model, *fallbacks]]
        external = [(self.provider_name, model)] if self.provider_name and model in self.provider_models else []
        if self.provider_for(model, prompt_tokens, complexity, tier) == self.provider_name and external:
            return external + workers_ai
        return workers_ai + external

    def cost_usd(self, provider: str, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        info = CATALOG.get(model) or MODERATION_MODELS.get(model)
        input_price = info.input_price if info else 0.0
        output_price = info.output_price if info else 0.0
        if provider != WORKERS_AI and (mapped := self.provider_models.get(model)):
            input_price = input_price if mapped.input_price is None else mapped.input_price
            output_price = output_price if mapped.output_price is None else mapped.output_price
        return price_of(prompt_tokens, completion_tokens, input_price, output_price)
