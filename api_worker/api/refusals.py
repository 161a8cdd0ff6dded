"""What a request body asks for that is not carried to a model, refused with a 400 naming the
field (and, for a feature some model has, the models that have it) before the body is read:
images and files that are not images, audio, OpenAI's tools other than functions and its
deprecated function fields, and each field of OpenAI's chat completion and (legacy) completion
requests besides those OpenAIChatBody and OpenAICompletionBody carry (api/bodies.py), and of
its Responses requests besides those OpenAIResponsesBody carries."""

from typing import Any

from shared.errors import ApiError, ErrorCode


def _part_refusal(part: Any, field: str) -> ApiError | None:
    """The refusal of a message part this deployment cannot carry to a model (files that are not
    images, audio, an image's `detail`), in either dialect's spelling; None for a part it reads
    (images: api/images.py; tool parts: api/ui_messages.py) or skips."""
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    media = part.get("mediaType") or part.get("mimeType") or ""
    if kind == "image_url":
        image_url = part.get("image_url")
        if isinstance(image_url, dict) and image_url.get("detail") in ("low", "high"):
            return ApiError(ErrorCode.UNSUPPORTED, f"{field}.image_url.detail: only 'auto' is supported: the models here "
                            "read an image at their own resolution", field=f"{field}.image_url.detail")
        return None
    if kind == "image":
        return ApiError(ErrorCode.UNSUPPORTED, f"{field}: send an image as a file part ({{type: 'file', mediaType, url}})",
                        field=field)
    if kind == "file" and media.lower().startswith("image/"):
        return None
    if kind in ("file", "input_audio"):
        return ApiError(ErrorCode.UNSUPPORTED, f"{field}: {kind} parts ({media or 'no media type'}) are not supported by this deployment",
                        field=field)
    return None


def refuse_parts(parts: Any, field: str) -> None:
    """Raises the refusal of the first of a message's `parts` (at `field`) that cannot be carried."""
    for position, part in enumerate(parts if isinstance(parts, list) else []):
        if refusal := _part_refusal(part, f"{field}.{position}"):
            raise refusal


# What becomes of each field of OpenAI's chat completion request that is not carried to the model
# (those are OpenAIChatBody's fields). A field given as null is as if absent, as OpenAI treats it.
# Identifiers and cache hints that change no answer: accepted, recorded nowhere.
OPENAI_ACCEPTED_UNUSED = frozenset({"user", "safety_identifier", "prompt_cache_key", "metadata"})
# Fields accepted only with the value that asks for nothing this deployment lacks.
OPENAI_DEFAULT_ONLY: dict[str, tuple[Any, ...]] = {
    "n": (1,), "logprobs": (False,), "store": (False,), "modalities": (["text"],),
    "service_tier": ("auto", "default"), "logit_bias": ({},),
}
# OpenAI's deprecated function calling, which `tools` and `tool_choice` replaced.
OPENAI_LEGACY_FUNCTION_FIELDS = ("functions", "function_call")
# Fields asking for what no model here offers.
OPENAI_NOT_OFFERED = ("audio", "top_logprobs", "prediction", "reasoning_effort", "verbosity", "web_search_options")


def _not_offered(field: str) -> ApiError:
    return ApiError(ErrorCode.UNSUPPORTED, f"{field}: not supported by this deployment", field=field)


def _legacy_function_calling(field: str) -> ApiError:
    return ApiError(ErrorCode.UNSUPPORTED, f"{field}: OpenAI's deprecated function calling is not supported; "
                    "send tools and tool_choice (and tool_calls and role \"tool\" in messages) instead", field=field)


def _functions_only(data: dict[str, Any], named_choice: str) -> None:
    """Refuses a tool that is not a function, and a `tool_choice` naming another kind of tool
    (`named_choice`: how the dialect names one function)."""
    _function_tools_only(data.get("tools"), "tools")
    if isinstance(choice := data.get("tool_choice"), dict) and choice.get("type") != "function":
        raise ApiError(ErrorCode.UNSUPPORTED, f"tool_choice.type: {choice.get('type')!r} is not supported; choose "
                       f'"auto", "none", "required" or {named_choice}', field="tool_choice.type")


def _function_tools_only(tools: Any, field: str) -> None:
    """Refuses the first tool (or tool call) that is not a function: custom tools and the like."""
    for index, tool in enumerate(tools if isinstance(tools, list) else []):
        kind = tool.get("type", "function") if isinstance(tool, dict) else "function"
        if kind != "function":
            where = f"{field}.{index}.type"
            raise ApiError(ErrorCode.UNSUPPORTED, f"{where}: {kind!r} tools are not supported; only function tools are",
                           field=where)


def _refuse_beyond_defaults(data: dict[str, Any], default_only: dict[str, tuple[Any, ...]]) -> None:
    for field, accepted in default_only.items():
        if field in data and data[field] not in accepted:
            raise ApiError(ErrorCode.UNSUPPORTED, f"{field}: only {accepted[0]!r} is supported by this deployment", field=field)


def _openai_message(message: Any, index: int) -> Any:
    if not isinstance(message, dict):
        return message
    message = {k: v for k, v in message.items() if v is not None}
    field = f"messages.{index}"
    if message.get("role") == "function":
        raise _legacy_function_calling(f"{field}.role")
    if "function_call" in message:
        raise _legacy_function_calling(f"{field}.function_call")
    _function_tools_only(message.get("tool_calls"), f"{field}.tool_calls")
    for name in ("audio", "name", "refusal"):
        if name in message:
            raise _not_offered(f"{field}.{name}")
    if message.get("tool_calls") == []:
        del message["tool_calls"]
    refuse_parts(message.get("content"), f"{field}.content")
    return message


def openai_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The body with what needs no carrying taken out, or the refusal of its first field that
    asks for what this deployment lacks."""
    data = {k: v for k, v in data.items() if v is not None}
    for field in OPENAI_LEGACY_FUNCTION_FIELDS:
        if field in data:
            raise _legacy_function_calling(field)
    _functions_only(data, '{"type": "function", "function": {"name": ...}}')
    for field in OPENAI_NOT_OFFERED:
        if field in data:
            raise _not_offered(field)
    _refuse_beyond_defaults(data, OPENAI_DEFAULT_ONLY)
    data = {k: v for k, v in data.items() if k not in OPENAI_ACCEPTED_UNUSED and k not in OPENAI_DEFAULT_ONLY}
    if isinstance(data.get("messages"), list):
        data["messages"] = [_openai_message(m, i) for i, m in enumerate(data["messages"])]
    return data


# OpenAI's legacy completion request, the same way (OpenAICompletionBody carries the rest).
OPENAI_COMPLETION_DEFAULT_ONLY: dict[str, tuple[Any, ...]] = {"n": (1,), "best_of": (1,), "echo": (False,), "logit_bias": ({},)}
OPENAI_COMPLETION_NOT_OFFERED = ("suffix", "logprobs")


def openai_completion_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A completion body with what needs no carrying taken out, or the refusal of its first
    field that asks for what this deployment lacks (a field given as null is as if absent)."""
    data = {k: v for k, v in data.items() if v is not None}
    for field in OPENAI_COMPLETION_NOT_OFFERED:
        if field in data:
            raise _not_offered(field)
    _refuse_beyond_defaults(data, OPENAI_COMPLETION_DEFAULT_ONLY)
    return {k: v for k, v in data.items() if k != "user" and k not in OPENAI_COMPLETION_DEFAULT_ONLY}


# OpenAI's Responses request, the same way (OpenAIResponsesBody carries the rest). Nothing is
# stored, so `store` of any value is answered `store: false`, and no earlier response can be continued.
OPENAI_RESPONSES_ACCEPTED_UNUSED = frozenset({"user", "safety_identifier", "prompt_cache_key", "metadata", "store"})
OPENAI_RESPONSES_DEFAULT_ONLY: dict[str, tuple[Any, ...]] = {
    "truncation": ("disabled",), "background": (False,), "include": ([],), "service_tier": ("auto", "default"),
}
OPENAI_RESPONSES_NOT_OFFERED = ("reasoning", "top_logprobs", "max_tool_calls", "prompt", "conversation")


def openai_response_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A Responses body with what needs no carrying taken out, or the refusal of its first field
    that asks for what this deployment lacks (a field given as null is as if absent)."""
    data = {k: v for k, v in data.items() if v is not None}
    if "previous_response_id" in data:
        raise ApiError(ErrorCode.UNSUPPORTED, "previous_response_id: responses are not stored here; send the "
                       "conversation so far in input (the earlier output items, then the new ones)",
                       field="previous_response_id")
    for field in OPENAI_RESPONSES_NOT_OFFERED:
        if field in data:
            raise _not_offered(field)
    _functions_only(data, '{"type": "function", "name": ...}')
    _refuse_beyond_defaults(data, OPENAI_RESPONSES_DEFAULT_ONLY)
    return {k: v for k, v in data.items()
            if k not in OPENAI_RESPONSES_ACCEPTED_UNUSED and k not in OPENAI_RESPONSES_DEFAULT_ONLY}
