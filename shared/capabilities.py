"""What a generation asks of its model, checked against the catalog (shared/models.py) before
any model call: a feature or sampling option the model lacks, or input beyond its context
window, is refused naming the field (and the models that have what was asked), never dropped."""

from shared.errors import ApiError, ErrorCode
from shared.models import TEXT_MODELS, ModelInfo
from shared.workers_ai import estimate_tokens

# Features a model may have, as a caller would name them.
FEATURE_NAMES = {"tools": "tool calling", "vision": "image input"}


def models_with(feature: str, catalog: dict[str, ModelInfo] = TEXT_MODELS) -> list[str]:
    return [m.id for m in catalog.values() if getattr(m.capabilities, feature)]


def models_taking(option: str, catalog: dict[str, ModelInfo] = TEXT_MODELS) -> list[str]:
    return [m.id for m in catalog.values() if option in m.capabilities.options]


def _listing(models: list[str]) -> str:
    return ", ".join(models) if models else "none in this deployment"


def check_features(model: ModelInfo, fields: dict[str, str], catalog: dict[str, ModelInfo] = TEXT_MODELS) -> None:
    """`fields`: each feature the request uses ("tools", "vision": Capabilities' names), with the
    field that asks for it. One the model lacks is refused naming the field and the models that have it."""
    for feature, field in fields.items():
        if not getattr(model.capabilities, feature):
            able = models_with(feature, catalog)
            raise ApiError(ErrorCode.UNSUPPORTED,
                           f"{field}: {model.id} does not do {FEATURE_NAMES[feature]} (models that do: {_listing(able)})",
                           field=field, models=able)


def check_options(model: ModelInfo, fields: dict[str, str], catalog: dict[str, ModelInfo] = TEXT_MODELS) -> None:
    """`fields`: each sampling option the request sets (shared/models.py SAMPLING_OPTIONS), with
    the name the caller gave it (`topP` is `top_p`). One the model does not take is refused."""
    for option, field in fields.items():
        if option not in model.capabilities.options:
            able = models_taking(option, catalog)
            raise ApiError(ErrorCode.UNSUPPORTED,
                           f"{field}: {model.id} does not take {option} (models that do: {_listing(able)})",
                           field=field, models=able)


def context_problem(model: ModelInfo, prompt_chars: int) -> str | None:
    """Why input of `prompt_chars` characters does not fit the model's context window, if it does not."""
    tokens = estimate_tokens(prompt_chars)
    if model.context_window and tokens > model.context_window:
        return f"hold about {tokens} tokens; {model.id} reads at most {model.context_window} tokens"
    return None


def check_context(model: ModelInfo, prompt_chars: int, field: str) -> None:
    if problem := context_problem(model, prompt_chars):
        raise ApiError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, f"{field} {problem}", field=field, limit=model.context_window)


def can_serve(model: ModelInfo, options: set[str], prompt_chars: int, features: frozenset[str] = frozenset()) -> bool:
    """Whether a model (a fallback, say) takes every option a request sets, has every feature it
    uses ("tools", "vision") and holds its input."""
    return (options <= model.capabilities.options and all(getattr(model.capabilities, f) for f in features)
            and context_problem(model, prompt_chars) is None)
