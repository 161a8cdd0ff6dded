"""The Workers AI model catalog: what callers may name, aliases, embedding sizes, and what
each text model can do.

Plain data, used by the api worker (to refuse an unknown model or a feature it lacks before any
RPC, and for /v1/models) and by the inference worker (to pick the model and its fallbacks).
"""

from dataclasses import dataclass, field
from typing import Any

# The sampling options a generation may set, in Workers AI's (and OpenAI's) names.
SAMPLING_OPTIONS = ("temperature", "max_tokens", "top_p", "top_k", "seed", "stop",
                    "repetition_penalty", "frequency_penalty", "presence_penalty")
# What Workers AI's text models take (their input schemas). `stop` is none of them: the inference
# service cuts the answer at a stop sequence itself, so every text model takes it here.
WORKERS_AI_OPTIONS = frozenset(SAMPLING_OPTIONS)


@dataclass(frozen=True)
class Capabilities:
    """What a text model can do, as Cloudflare documents it for Workers AI."""

    tools: bool = False  # function calling
    vision: bool = False  # image parts in messages
    json_mode: bool = False  # answers held to a JSON Schema
    tool_streaming: bool = False  # tool calls streamed as they are generated
    options: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self, context_window: int) -> dict[str, Any]:
        return {"tools": self.tools, "vision": self.vision, "json_mode": self.json_mode,
                "tool_streaming": self.tool_streaming, "context_window": context_window,
                "options": [o for o in SAMPLING_OPTIONS if o in self.options]}


@dataclass(frozen=True)
class ModelInfo:
    id: str
    owned_by: str
    task: str  # "text-generation" or "text-embeddings"
    context_window: int = 0  # tokens, prompt and answer together
    dimensions: int = 0
    # US dollars per million tokens, as Cloudflare lists them for Workers AI (update when they change).
    input_price: float = 0.0
    output_price: float = 0.0
    capabilities: Capabilities = Capabilities()


def price_of(prompt_tokens: int, completion_tokens: int, input_price: float, output_price: float) -> float:
    """What a call costs at prices per million tokens (rounded to a millionth of a cent)."""
    return round((prompt_tokens * input_price + completion_tokens * output_price) / 1_000_000, 8)


TEXT_MODELS = {
    m.id: m
    for m in (
        ModelInfo("@cf/meta/llama-3.1-8b-instruct-fast", "meta", "text-generation", 128_000, input_price=0.045, output_price=0.384,
                  capabilities=Capabilities(json_mode=True, options=WORKERS_AI_OPTIONS)),
        ModelInfo("@cf/meta/llama-3.3-70b-instruct-fp8-fast", "meta", "text-generation", 24_000, input_price=0.293, output_price=2.253,
                  capabilities=Capabilities(tools=True, json_mode=True, options=WORKERS_AI_OPTIONS)),
        ModelInfo("@cf/mistralai/mistral-small-3.1-24b-instruct", "mistralai", "text-generation", 128_000,
                  input_price=0.351, output_price=0.555,
                  capabilities=Capabilities(tools=True, vision=True, json_mode=True, options=WORKERS_AI_OPTIONS)),
        ModelInfo("@cf/meta/llama-4-scout-17b-16e-instruct", "meta", "text-generation", 131_000,
                  input_price=0.270, output_price=0.850,
                  capabilities=Capabilities(tools=True, vision=True, json_mode=True, tool_streaming=True,
                                            options=WORKERS_AI_OPTIONS)),
    )
}

EMBEDDING_MODELS = {
    m.id: m
    for m in (
        ModelInfo("@cf/baai/bge-small-en-v1.5", "baai", "text-embeddings", 512, 384, input_price=0.020),
        ModelInfo("@cf/baai/bge-base-en-v1.5", "baai", "text-embeddings", 512, 768, input_price=0.067),
        ModelInfo("@cf/baai/bge-large-en-v1.5", "baai", "text-embeddings", 512, 1024, input_price=0.204),
    )
}

# The guardrails' moderation model (inference/guardrails.py): priced for its calls' records, not
# offered to callers.
MODERATION_MODEL = "@cf/meta/llama-guard-3-8b"
MODERATION_MODELS = {MODERATION_MODEL: ModelInfo(MODERATION_MODEL, "meta", "text-classification", 131_072,
                                                 input_price=0.48, output_price=0.03)}

DEFAULT_TEXT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
DEFAULT_EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"

ALL_MODELS = [*TEXT_MODELS.values(), *EMBEDDING_MODELS.values()]
CATALOG = {m.id: m for m in ALL_MODELS}

# Short names, and retired ids mapped to their successors: @cf/meta/llama-3.1-8b-instruct was
# deprecated on 2026-05-30 and its -fast variant remains.
ALIASES = {
    "llama-3.1-8b": "@cf/meta/llama-3.1-8b-instruct-fast",
    "@cf/meta/llama-3.1-8b-instruct": "@cf/meta/llama-3.1-8b-instruct-fast",
    "llama-3.3-70b": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "mistral-small-3.1": "@cf/mistralai/mistral-small-3.1-24b-instruct",
    "llama-4-scout": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "bge-small": "@cf/baai/bge-small-en-v1.5",
    "bge-base": "@cf/baai/bge-base-en-v1.5",
    "bge-large": "@cf/baai/bge-large-en-v1.5",
}


# Models Cloudflare retired, with the day and what to use instead: refused with that message, never
# sent to Workers AI (which would fail the call). A retired id that has a same-family successor
# is an alias of it instead (above). tests/unit/test_models.py checks the catalog against this list.
RETIRED = {
    "@cf/google/gemma-3-12b-it": ("2026-05-30", "@cf/mistralai/mistral-small-3.1-24b-instruct"),
}


class UnknownModel(ValueError):
    def __init__(self, name: str, valid: list[str], message: str | None = None) -> None:
        super().__init__(message or f"Unknown model {name!r}")
        self.name = name
        self.valid = valid


def resolve(name: str | None, catalog: dict[str, ModelInfo], default: str) -> str:
    """The catalog id for a requested name (None means the default)."""
    model = ALIASES.get(name, name) if name else default
    if model not in catalog:
        valid = sorted(catalog) + sorted(a for a, target in ALIASES.items() if target in catalog)
        if model in RETIRED:
            retired_on, successor = RETIRED[model]
            raise UnknownModel(model, valid, f"Model {model!r} was retired by Cloudflare on {retired_on}; use {successor!r} instead")
        raise UnknownModel(name or default, valid)
    return model


def parse_model_list(value: str | None) -> list[str]:
    """A comma-separated list from a [vars] entry, e.g. FALLBACK_MODELS."""
    return [ALIASES.get(item.strip(), item.strip()) for item in (value or "").split(",") if item.strip()]
