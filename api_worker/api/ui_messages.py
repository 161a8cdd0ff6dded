"""useChat's messages (the AI SDK's UI messages) as the contract's chat messages.

A message's text parts are joined. An assistant message holds, besides its text, the tools it
called (`tool-<name>` parts, or `dynamic-tool` parts naming the tool) with the result the client
sent back in the same part, and `step-start` parts between the steps of its answer. As the AI
SDK's own `convertToModelMessages` does, each step becomes an assistant message (its text and
its calls) followed by one `tool` message per result, so the model reads the calls, the results
and what it said after them in order. Other parts (reasoning, sources, data) are not sent back.
"""

import json
import re
from typing import Any, Literal

from pydantic import ConfigDict

from api.images import ImageReader
from shared.base import Model
from shared.contract import TOOL_NAME_PATTERN, ChatMessage, ImageInput, ToolCall
from shared.errors import ApiError, ErrorCode

TOOL_PART_PREFIX = "tool-"
# States of a call the client answered: with its output, its error, or by refusing to run it.
ANSWERED = frozenset({"output-available", "output-error", "output-denied"})
# States of a call still waiting for the client's answer.
UNANSWERED = frozenset({"input-streaming", "input-available", "approval-requested"})
# What the model reads for a call the user would not run, when no reason is given (the AI SDK's words).
DENIED = "Tool call execution denied."
# JSON text as JavaScript's JSON.stringify writes it, as the AI SDK would send it to a model.
JSON_SEPARATORS = (",", ":")


class UIPart(Model):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None
    mediaType: str | None = None
    url: str | None = None  # a file part's: a data URL, or an http(s) URL
    # A tool part's: the call, its state, its input, and the client's answer.
    toolCallId: str | None = None
    toolName: str | None = None  # a dynamic-tool part's (a static one is named by its type)
    state: str | None = None
    input: Any = None
    output: Any = None
    errorText: str | None = None
    approval: dict[str, Any] | None = None

    def tool_name(self) -> str | None:
        """The tool a tool part calls; None for any other part."""
        if self.type == "dynamic-tool":
            return self.toolName or ""
        return self.type[len(TOOL_PART_PREFIX):] if self.type.startswith(TOOL_PART_PREFIX) else None

    def is_image(self) -> bool:
        return self.type == "file" and (self.mediaType or "").lower().startswith("image/")


class UIMessage(Model):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    role: Literal["system", "user", "assistant"]
    parts: list[UIPart]
    # Where the parts were (`messages.0.parts`, or `messages.0.content`), for errors naming a part:
    # set by api/bodies.py, whatever the client sent.
    parts_field: str = ""

    def images(self, reader: ImageReader) -> list[ImageInput]:
        """Its image file parts, each checked (a user's only: another's is refused naming it)."""
        return [reader.read(p.url or "", f"{self.parts_field}.{i}", self.role, p.mediaType)
                for i, p in enumerate(self.parts) if p.is_image()]


def _invalid(field: str, message: str, code: ErrorCode = ErrorCode.INVALID_REQUEST) -> ApiError:
    return ApiError(code, f"{field}: {message}", field=field)


def _arguments(part: UIPart, field: str) -> str:
    """The call's input as JSON text (a call still streaming may have none yet)."""
    if part.input is None:
        return "{}"
    if not isinstance(part.input, dict):
        raise _invalid(f"{field}.input", "a tool call's input must be an object")
    return json.dumps(part.input, ensure_ascii=False, separators=JSON_SEPARATORS)


def _result(part: UIPart) -> str:
    """What the model reads as the call's result: the output (a string as it is, anything else as
    JSON text), the error's text, or why the call was not run."""
    if part.state == "output-available":
        return part.output if isinstance(part.output, str) else json.dumps(part.output, ensure_ascii=False, separators=JSON_SEPARATORS)
    if part.state == "output-error":
        return part.errorText or ""
    return (part.approval or {}).get("reason") or DENIED


def _tool_call(part: UIPart, field: str) -> ToolCall:
    name = part.tool_name()
    if not name or not re.fullmatch(TOOL_NAME_PATTERN, name):
        where = f"{field}.toolName" if part.type == "dynamic-tool" else f"{field}.type"
        raise _invalid(where, f"tool name {name!r} must be 1 to 64 letters, digits, '_' or '-'")
    if not part.toolCallId:
        raise _invalid(f"{field}.toolCallId", "a tool part needs the id of its call")
    if len(part.toolCallId) > 128:
        raise _invalid(f"{field}.toolCallId", "at most 128 characters")
    return ToolCall(id=part.toolCallId, name=name, arguments=_arguments(part, field))


def _is_denied(part: UIPart) -> bool:
    return part.state == "output-denied" or (part.state == "approval-responded" and (part.approval or {}).get("approved") is False)


def _step(parts: list[tuple[int, UIPart]], field: str, last: bool) -> list[ChatMessage]:
    """One step of an assistant's answer: its text and calls, then the result of each call."""
    text, calls, results = [], [], []
    for position, part in parts:
        where = f"{field}.parts.{position}"
        if part.type == "text":
            text.append(part.text or "")
            continue
        if part.tool_name() is None:
            continue
        call = _tool_call(part, where)
        if part.state in ANSWERED or _is_denied(part):
            calls.append(call)
            results.append(ChatMessage(role="tool", content=_result(part), tool_call_id=call.id))
        elif part.state == "approval-responded":
            raise _invalid(f"{where}.state", "this deployment runs no tools, so it has none to approve: send the "
                           "call's result (output-available or output-error) or deny it (output-denied)",
                           ErrorCode.UNSUPPORTED)
        elif part.state in UNANSWERED:
            # The client has not answered it yet: in the last message it is left out (the model is
            # asked again); before it, the conversation went on without its result.
            if not last:
                raise _invalid(where, f"tool call {call.id} ({call.name}) has no result (state {part.state}); "
                               "send its output (output-available) or its error (output-error)")
        else:
            raise _invalid(f"{where}.state", f"unknown tool part state {part.state!r}")
    if not text and not calls:
        return []
    return [ChatMessage(role="assistant", content="".join(text), tool_calls=calls), *results]


def _assistant(message: UIMessage, field: str, last: bool) -> list[ChatMessage]:
    steps: list[list[tuple[int, UIPart]]] = [[]]
    for position, part in enumerate(message.parts):
        if part.type == "step-start":
            steps.append([])
        else:
            steps[-1].append((position, part))
    converted = [m for step in steps for m in _step(step, field, last)]
    return converted or [ChatMessage(role="assistant")]


def chat_messages(messages: list[UIMessage], images: ImageReader) -> list[ChatMessage]:
    """The conversation as the model reads it (a user's image file parts read by `images`); a tool
    or image part that cannot be read is a 400 naming it."""
    converted: list[ChatMessage] = []
    for index, message in enumerate(messages):
        field = f"messages.{index}"
        read = message.images(images)
        if message.role == "assistant":
            converted += _assistant(message, field, last=index == len(messages) - 1)
            continue
        for position, part in enumerate(message.parts):
            if part.tool_name() is not None:
                raise _invalid(f"{field}.parts.{position}", f"tool parts belong to assistant messages, not {message.role} ones")
        converted.append(ChatMessage(role=message.role, content="".join(p.text or "" for p in message.parts if p.type == "text"),
                                     images=read))
    return converted

