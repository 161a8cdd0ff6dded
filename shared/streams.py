"""Stream encoders: model tokens in, the bytes a client's reader expects out.

- "ui": the Vercel AI SDK UI message stream v1 over SSE (useChat, and useCompletion's default
  "data" protocol). Chunks carry only the fields AI SDK 5.0.0 accepts: its chunk schemas are
  strict objects, so `finish` carries no `finishReason`; the finish reason and usage travel
  in `messageMetadata`, which every version accepts.
- "text": plain text (useCompletion's "text" protocol, and useObject's JSON text).
- "openai": OpenAI `chat.completion.chunk` events, ending `data: [DONE]`.
- "openai-completion": OpenAI's legacy `text_completion` events (`choices[0].text`), the same way.
- "openai-responses": OpenAI's Responses API events (`event: response.output_text.delta` and the
  rest), ending with `response.completed` (the whole response, usage in it) and no [DONE].

An encoder's `error()` returns the in-band error event, or None where the protocol has none
(plain text): the producer then ends the stream abnormally, which the client's reader reports.
"""

import json
from collections.abc import Sequence
from json.encoder import encode_basestring  # a str as a JSON string (non-ASCII kept), in C
from typing import Any, Protocol

from shared.contract import Source, ToolCall
from shared.json_reader import parse_internal
from shared.responses import (
    function_call_item,
    function_call_item_id,
    message_item,
    message_item_id,
    output_text,
    response_object,
    response_usage,
)
from shared.workers_ai import Usage

SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
}
UI_MESSAGE_STREAM_HEADERS = {**SSE_HEADERS, "x-vercel-ai-ui-message-stream": "v1"}
# Cloudflare's edge gzips text/plain for clients that accept it (not text/event-stream), which
# holds tokens back in the compressor and hides a stream's abnormal end; a Content-Encoding
# already set is left alone, so the plain-text stream says it is not encoded.
TEXT_HEADERS = {"content-type": "text/plain; charset=utf-8", "cache-control": "no-cache, no-transform",
                "content-encoding": "identity"}

PROTOCOL_HEADERS = {"ui": UI_MESSAGE_STREAM_HEADERS, "text": TEXT_HEADERS, "openai": SSE_HEADERS,
                    "openai-completion": SSE_HEADERS, "openai-responses": SSE_HEADERS}


def _event(payload: Any) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'), ensure_ascii=False)}\n\n"


_HOLE = "\u0000hole\u0000"


def _template(payload: Any) -> tuple[str, str]:
    """An event split around the string `_HOLE` placed in `payload`, so that a delta, sent once
    per token, costs one string escape and not a dict's serialization. Same bytes as `_event`."""
    head, tail = _event(payload).split(encode_basestring(_HOLE))
    return head, tail


DONE = "data: [DONE]\n\n"


# The passages an answer is grounded in (shared/documents.py), as the stream announces them.
SOURCE_METADATA_KEY = "inference-ui"


class Encoder(Protocol):
    def start(self, sources: Sequence[Source] = ()) -> str: ...
    def delta(self, text: str) -> str: ...
    # A tool call, as it streams: its start (id and name), pieces of its arguments (JSON text),
    # and its end (the whole call). `index`: its place among the answer's calls, from 0.
    def tool_call_start(self, index: int, call_id: str, name: str) -> str: ...
    def tool_call_delta(self, index: int, arguments: str) -> str: ...
    def tool_call_end(self, index: int, call: ToolCall) -> str: ...
    # `finish_reason` in OpenAI's names: "stop", "length" or "tool_calls".
    def finish(self, finish_reason: str, usage: Usage, metadata: dict[str, Any]) -> str: ...
    def error(self, message: str) -> str | None: ...


# The AI SDK's names of OpenAI's finish reasons, where they differ.
UI_FINISH_REASONS = {"tool_calls": "tool-calls", "content_filter": "content-filter"}


class UIMessageStream:
    """A text part opens with the answer's first text (an answer that only calls tools has none);
    each tool call is a `tool-input-start`, its arguments' pieces, and a `tool-input-available`
    with the arguments parsed, which useChat shows as a `tool-<name>` part."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.text_id = f"{message_id}-text"
        self._delta = _template({"type": "text-delta", "id": self.text_id, "delta": _HOLE})
        self._text_open = False
        self._call_ids: dict[int, str] = {}

    def start(self, sources: Sequence[Source] = ()) -> str:
        # Each passage a `source-document` part (useChat lists them in message.parts); what the
        # part has no field for (document, score, text) rides in its providerMetadata.
        cited = "".join(_event({
            "type": "source-document", "sourceId": source.id, "mediaType": "text/plain", "title": source.title,
            "providerMetadata": {SOURCE_METADATA_KEY: {"documentId": source.document_id, "passage": source.passage,
                                                       "score": source.score, "text": source.text}},
        }) for source in sources)
        return _event({"type": "start", "messageId": self.message_id}) + cited + _event({"type": "start-step"})

    def delta(self, text: str) -> str:
        if not text:
            return ""
        head, tail = self._delta
        if self._text_open:
            return head + encode_basestring(text) + tail
        self._text_open = True
        return _event({"type": "text-start", "id": self.text_id}) + head + encode_basestring(text) + tail

    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        self._call_ids[index] = call_id
        return _event({"type": "tool-input-start", "toolCallId": call_id, "toolName": name})

    def tool_call_delta(self, index: int, arguments: str) -> str:
        if not arguments:
            return ""
        return _event({"type": "tool-input-delta", "toolCallId": self._call_ids[index], "inputTextDelta": arguments})

    def tool_call_end(self, index: int, call: ToolCall) -> str:
        return _event({"type": "tool-input-available", "toolCallId": call.id, "toolName": call.name,
                       "input": parse_internal(call.arguments or "{}", field="tool call arguments")})

    def finish(self, finish_reason: str, usage: Usage, metadata: dict[str, Any]) -> str:
        meta = {**metadata, "finishReason": UI_FINISH_REASONS.get(finish_reason, finish_reason), "usage": usage.as_dict()}
        return (
            (_event({"type": "text-end", "id": self.text_id}) if self._text_open else "")
            + _event({"type": "finish-step"})
            + _event({"type": "finish", "messageMetadata": meta})
            + DONE
        )

    def error(self, message: str) -> str:
        return _event({"type": "error", "errorText": message}) + DONE


class TextStream:
    def start(self, sources: Sequence[Source] = ()) -> str:
        return ""

    def delta(self, text: str) -> str:
        return text

    # Plain text has no tool calls: the routes that stream it take no tools.
    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        return ""

    def tool_call_delta(self, index: int, arguments: str) -> str:
        return ""

    def tool_call_end(self, index: int, call: ToolCall) -> str:
        return ""

    def finish(self, finish_reason: str, usage: Usage, metadata: dict[str, Any]) -> str:
        return ""

    def error(self, message: str) -> None:
        return None


class OpenAIChunks:
    def __init__(self, completion_id: str, model: str, created: int, include_usage: bool) -> None:
        self.base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        self.include_usage = include_usage
        self._delta = _template(self._payload({"content": _HOLE}))

    def _payload(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        chunk = {**self.base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        return _event(self._payload(delta, finish_reason))

    def start(self, sources: Sequence[Source] = ()) -> str:
        first = self._payload({"role": "assistant", "content": ""})
        if sources:  # not OpenAI's: a field its clients ignore
            first["sources"] = [source.model_dump() for source in sources]
        return _event(first)

    def delta(self, text: str) -> str:
        head, tail = self._delta
        return head + encode_basestring(text) + tail if text else ""

    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        return self._chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                            "function": {"name": name, "arguments": ""}}]})

    def tool_call_delta(self, index: int, arguments: str) -> str:
        return self._chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}) if arguments else ""

    def tool_call_end(self, index: int, call: ToolCall) -> str:
        return ""

    def finish(self, finish_reason: str, usage: Usage, metadata: dict[str, Any]) -> str:
        out = self._chunk({}, finish_reason)
        if self.include_usage:
            out += _event({**self.base, "choices": [], "usage": usage.as_dict()})
        return out + DONE

    def error(self, message: str) -> str:
        return _event({"error": {"message": message, "type": "server_error", "param": None, "code": "upstream_error"}}) + DONE


class OpenAICompletionChunks(OpenAIChunks):
    """OpenAI's legacy completion stream: `text_completion` events whose `choices[0].text` is the
    next piece of the answer, the last with its finish reason, then usage if asked, then [DONE]."""

    def __init__(self, completion_id: str, model: str, created: int, include_usage: bool) -> None:
        self.base = {"id": completion_id, "object": "text_completion", "created": created, "model": model}
        self.include_usage = include_usage
        self._delta = _template(self._payload({"text": _HOLE}))

    def _payload(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "text": delta.get("text", ""), "logprobs": None, "finish_reason": finish_reason}
        chunk = {**self.base, "choices": [choice]}
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def start(self, sources: Sequence[Source] = ()) -> str:
        return ""  # the first piece of text opens the stream: a completion chunk has no role to announce

    # Completions take no tools.
    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        return ""

    def tool_call_delta(self, index: int, arguments: str) -> str:
        return ""


class OpenAIResponseEvents:
    """OpenAI's Responses stream: each event named (`event:`) and numbered (`sequence_number`).
    Text is a message item, opened by its first piece and closed where a tool call begins (text
    after a call opens another); each tool call a function_call item whose arguments stream as
    deltas. `response.completed` repeats the whole response, so the text and calls are kept as they pass."""

    def __init__(self, response_id: str, model: str, created: int) -> None:
        self.response_id, self.model, self.created = response_id, model, created
        self._sequence = 0
        self._text: list[str] | None = None  # the open text item's pieces; None while none is open
        self._text_id, self._text_index, self._text_items = "", 0, 0
        self._calls: dict[int, tuple[int, ToolCall]] = {}  # a call's index -> its output index, the call
        self._outputs = 0
        self._done: dict[int, dict[str, Any]] = {}  # output index -> the item, done

    def _event(self, kind: str, payload: dict[str, Any]) -> str:
        number = self._sequence
        self._sequence += 1
        data = json.dumps({"type": kind, "sequence_number": number, **payload}, separators=(",", ":"), ensure_ascii=False)
        return f"event: {kind}\ndata: {data}\n\n"

    def _response(self, status: str, **fields: Any) -> dict[str, Any]:
        output = [self._done[index] for index in sorted(self._done)]
        return response_object(self.response_id, self.model, self.created, output, status=status, **fields)

    def start(self, sources: Sequence[Source] = ()) -> str:
        return (self._event("response.created", {"response": self._response("in_progress")})
                + self._event("response.in_progress", {"response": self._response("in_progress")}))

    def _open_text(self) -> str:
        self._text, self._text_index = [], self._outputs
        self._text_id = message_item_id(self.response_id) + (f"_{self._text_items}" if self._text_items else "")
        self._outputs += 1
        self._text_items += 1
        where = {"item_id": self._text_id, "output_index": self._text_index, "content_index": 0}
        return (self._event("response.output_item.added", {"output_index": self._text_index,
                                                            "item": message_item(self._text_id, None, "in_progress")})
                + self._event("response.content_part.added", {**where, "part": output_text("")}))

    def _close_text(self) -> str:
        if self._text is None:
            return ""
        text, self._text = "".join(self._text), None
        where = {"item_id": self._text_id, "output_index": self._text_index, "content_index": 0}
        item = self._done[self._text_index] = message_item(self._text_id, text)
        return (self._event("response.output_text.done", {**where, "text": text, "logprobs": []})
                + self._event("response.content_part.done", {**where, "part": output_text(text)})
                + self._event("response.output_item.done", {"output_index": self._text_index, "item": item}))

    def delta(self, text: str) -> str:
        if not text:
            return ""
        opened = self._open_text() if self._text is None else ""
        assert self._text is not None  # opened just now, or before
        self._text.append(text)
        return opened + self._event("response.output_text.delta", {
            "item_id": self._text_id, "output_index": self._text_index, "content_index": 0, "delta": text, "logprobs": []})

    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        closed = self._close_text()  # the text said before a call is one item, ended where the call begins
        call = ToolCall(id=call_id, name=name, arguments="")
        self._calls[index] = (self._outputs, call)
        self._outputs += 1
        return closed + self._event("response.output_item.added", {"output_index": self._calls[index][0],
                                                                    "item": function_call_item(call, "in_progress")})

    def tool_call_delta(self, index: int, arguments: str) -> str:
        if not arguments:
            return ""
        output_index, call = self._calls[index]
        return self._event("response.function_call_arguments.delta", {
            "item_id": function_call_item_id(call.id), "output_index": output_index, "delta": arguments})

    def tool_call_end(self, index: int, call: ToolCall) -> str:
        output_index = self._calls[index][0]
        item = self._done[output_index] = function_call_item(call)
        return (self._event("response.function_call_arguments.done", {
                    "item_id": item["id"], "output_index": output_index, "name": call.name, "arguments": call.arguments})
                + self._event("response.output_item.done", {"output_index": output_index, "item": item}))

    def finish(self, finish_reason: str, usage: Usage, metadata: dict[str, Any]) -> str:
        closed = self._close_text()
        response = self._response("completed", finish_reason=finish_reason,
                                  usage=response_usage(usage.prompt_tokens, usage.completion_tokens))
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        return closed + self._event(kind, {"response": response})

    def error(self, message: str) -> str:
        return self._event("response.failed", {"response": self._response(
            "failed", error={"code": "server_error", "message": message})})


def make_encoder(protocol: str, *, stream_id: str, model: str, created: int, include_usage: bool = False) -> Encoder:
    if protocol == "ui":
        return UIMessageStream(stream_id)
    if protocol == "text":
        return TextStream()
    if protocol == "openai":
        return OpenAIChunks(stream_id, model, created, include_usage)
    if protocol == "openai-completion":
        return OpenAICompletionChunks(stream_id, model, created, include_usage)
    if protocol == "openai-responses":
        return OpenAIResponseEvents(stream_id, model, created)
    raise ValueError(f"unknown stream protocol {protocol!r}")
