"""What a generation asks of Workers AI, and how its answer is judged: the model and its
fallbacks, the inputs (with the JSON instruction for structured output), usage when the model
reports none, the finish reason, and whether an object matches its schema. Plain Python."""

from collections.abc import Sequence
from typing import Any

from inference.settings import settings_of
from shared.capabilities import can_serve, check_features
from shared.contract import ChatMessage, GenerationRequest, ServiceFailed, ServiceFailure, ToolCall
from shared.documents import PASSAGE_CHARS
from shared.errors import ApiError
from shared.json_schema import instruction, parse_model_json, validate
from shared.models import CATALOG
from shared.reservations import Reservation
from shared.routing import WORKERS_AI
from shared.splits import choose_arm
from shared.workers_ai import Usage, estimate_tokens


def features_used(req: GenerationRequest) -> dict[str, str]:
    """The features (shared/models.py Capabilities) the request uses, each with the field that asks for it."""
    used = {}
    if req.uses_tools():
        used["tools"] = "tools" if req.tools else "messages"
    if req.has_images():
        used["vision"] = next(image.field for m in req.messages for image in m.images) or "messages"
    return used


def _may_answer(env: Any, req: GenerationRequest, model: str) -> bool:
    """Whether `model` may answer in the requested model's place: the caller's tier may use it, it
    takes every option the request sets, has every feature it uses and holds its input."""
    if not settings_of(env).limits_for(req.caller.tier).allows_model(model):
        return False
    features = frozenset(features_used(req))
    if model not in CATALOG:  # known to have no feature
        return not features
    return can_serve(CATALOG[model], req.options_set(), req.prompt_chars(), features)


def model_chain(env: Any, req: GenerationRequest) -> list[str]:
    """The requested model, then the FALLBACK_MODELS that may answer in its place (a fallback must
    not drop what was asked)."""
    return [req.model] + [m for m in settings_of(env).fallback_models if m != req.model and _may_answer(env, req, m)]


def routed(env: Any, req: GenerationRequest) -> GenerationRequest:
    """The request on the arm its traffic split draws (shared/splits.py): the arm's model, the arm
    kept for the call's records. An arm whose model may not answer in the requested one's place
    leaves the request as it came, on no arm: a split must not drop what was asked."""
    choice = choose_arm(settings_of(env).splits, req)
    if choice is None or (choice.model != req.model and not _may_answer(env, req, choice.model)):
        return req
    return req.model_copy(update={"model": choice.model, "arm": choice})


def _serves(provider: str, model: str, features: dict[str, str]) -> bool:
    """Whether an attempt has the features: the external provider's model is the operator's choice
    (PROVIDER_MODELS), OpenAI-compatible, given tools and images as they are."""
    return provider != WORKERS_AI or (model in CATALOG and all(getattr(CATALOG[model].capabilities, f) for f in features))


def model_attempts(env: Any, req: GenerationRequest) -> list[tuple[str, str]]:
    """(provider, model) in the order to try: the provider the routing rules choose, then the other.
    A request using a feature (tools, images) goes only where it is served: to a Workers AI model
    that has it, or to the external provider. When routing's first choice (the requested model, on
    the provider the rules chose) lacks it, the request is refused, naming the field and the models
    that have the feature: a fallback would answer with another model or provider than the rules say."""
    prompt_tokens = estimate_usage(req, "").prompt_tokens
    chain = model_chain(env, req)
    attempts = settings_of(env).routing.attempts(req.model, chain[1:], prompt_tokens, req.complexity, req.caller.tier)
    if req.arm is not None and (preferred := req.arm.provider) is not None:  # the arm's provider first, the others' order kept
        attempts.sort(key=lambda attempt: attempt[0] != preferred)
    features = features_used(req)
    if not features:
        return attempts
    if not _serves(*attempts[0], features):
        try:
            check_features(CATALOG[req.model], features)
        except ApiError as refusal:
            raise ServiceFailed(ServiceFailure.refusing(refusal)) from None
    return [attempt for attempt in attempts if _serves(*attempt, features)]


def model_message(message: ChatMessage) -> dict[str, Any]:
    """A message as Workers AI's chat models (and OpenAI-compatible providers) read it: with
    images, its content is OpenAI's parts, the text first (each image a data URL by now:
    inference/images.py fetched the others)."""
    content: Any = message.content
    if message.images:
        content = ([{"type": "text", "text": message.content}] if message.content else []) + [
            {"type": "image_url", "image_url": {"url": image.url}} for image in message.images]
    out: dict[str, Any] = {"role": message.role, "content": content}
    if message.tool_calls:
        out["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in message.tool_calls]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def tool_inputs(req: GenerationRequest) -> dict[str, Any]:
    """The tools offered, in Workers AI's (and OpenAI's) shape, and the choice among them: none
    offered when the caller chose `none`; only the one named when it named one. Calls beyond the
    first, when the caller asked for one at a time, are dropped from the answer (tool_calls.py)."""
    if not req.tools or req.tool_choice.mode == "none":
        return {}
    tools = [t for t in req.tools if req.tool_choice.mode != "function" or t.name == req.tool_choice.name]
    offered = [{"type": "function", "function": t.model_dump(exclude_none=True)} for t in tools]
    if req.tool_choice.mode == "function":
        return {"tools": offered, "tool_choice": {"type": "function", "function": {"name": req.tool_choice.name}}}
    return {"tools": offered, "tool_choice": req.tool_choice.mode}


def model_inputs(req: GenerationRequest) -> dict[str, Any]:
    messages = [model_message(m) for m in req.messages]
    if req.json_schema is not None:
        messages.insert(0, {"role": "system", "content": instruction(req.json_schema)})
    inputs: dict[str, Any] = {"messages": messages, "max_tokens": req.max_tokens}
    if req.temperature is not None:
        inputs["temperature"] = req.temperature
    return inputs | req.sampling.model_options() | tool_inputs(req)


def streaming_attempts(env: Any, req: GenerationRequest) -> list[tuple[str, str]]:
    """The attempts whose model can stream this request's answer: offered tools, a Workers AI
    model whose catalog says it does not stream tool calls cannot (the external provider,
    OpenAI-compatible, can). None left: the answer is had whole and sent as the stream."""
    attempts = model_attempts(env, req)
    if not tool_inputs(req):
        return attempts
    return [(provider, model) for provider, model in attempts
            if provider != WORKERS_AI or model not in CATALOG or CATALOG[model].capabilities.tool_streaming]


def worst_case(env: Any, req: GenerationRequest) -> Reservation:
    """What a generation may spend at most, reserved of the caller's daily quotas before the model
    is called (shared/reservations.py): its prompt (with the schema's instruction and the passages
    retrieval may add) and its largest answer, at the dearest price of the models it may be routed to."""
    prompt = estimate_usage(req, "").prompt_tokens
    if req.json_schema is not None:
        prompt += len(instruction(req.json_schema)) // 4 + 1
    if req.retrieval is not None:  # the question embedded (at most the prompt's tokens), then the passages found
        prompt += prompt + req.retrieval.top_k * (PASSAGE_CHARS // 4)
    routing = settings_of(env).routing
    cost = max(routing.cost_usd(provider, model, prompt, req.max_tokens) for provider, model in model_attempts(env, req))
    return Reservation(id=req.request_id, kind="ai", tokens=prompt + req.max_tokens, cost_usd=cost)


def estimate_usage(req: GenerationRequest, text: str, tool_calls: Sequence[ToolCall] = ()) -> Usage:
    # Used only when the model reports no usage: the calls' names and arguments are answer too.
    chars = len(text) + sum(c.chars() for c in tool_calls)
    return Usage(estimate_tokens(req.prompt_chars()), estimate_tokens(chars) if chars else 0)


def finish_reason(req: GenerationRequest, used: Usage, stopped: bool = False, tool_calls: Sequence[ToolCall] = ()) -> str:
    """"tool_calls" when the answer calls tools; "stop" when a stop sequence cut it, else "length"
    when it used all its tokens."""
    if tool_calls:
        return "tool_calls"
    return "length" if used.completion_tokens >= req.max_tokens and not stopped else "stop"


def object_errors(req: GenerationRequest, text: str) -> list[str]:
    if req.json_schema is None:
        return []
    try:
        value = parse_model_json(text)
    except ValueError as exc:
        return [f"$: not valid JSON ({exc})"]
    return validate(value, req.json_schema)
