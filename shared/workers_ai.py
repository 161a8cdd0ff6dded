"""Reading what Workers AI sends: its SSE token stream (what its errors mean: shared/failures.py)."""

import json
from dataclasses import dataclass, field
from typing import Any

from shared.json_reader import parse_json
from shared.limits import MAX_BODY_BYTES


def estimate_tokens(chars: int) -> int:
    """Tokens in a text of `chars` characters, for when no tokenizer says: about four characters a token."""
    return max(1, chars // 4)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass
class ToolCallPiece:
    """A piece of a streamed tool call: the call at `index` of the answer; its id and name come
    with its first piece, its arguments (JSON text) in pieces to be joined."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass
class StreamEvent:
    text: str = ""
    usage: Usage | None = None
    done: bool = False
    tool_calls: list[ToolCallPiece] = field(default_factory=list)


class SSEDecoder:
    """Turns the bytes of `AI.run(model, {..., stream: True})` into events, across chunk
    boundaries: `data: {"response": "...", "usage": {...}}` lines, ending `data: [DONE]`; an
    OpenAI-compatible stream's `data: {"choices": [{"delta": {"content": "..."}}]}` alike.
    Tool-call pieces come top-level (`"tool_calls": [...]`, Workers AI's own events) or in
    `choices[0].delta.tool_calls` (OpenAI's), each `{index, id, function: {name, arguments}}`
    with only some of those fields (or flat: `{index, name, arguments}`)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\n")
        return [event for line in complete if (event := _parse_line(line)) is not None]

    def close(self) -> list[StreamEvent]:
        rest, self._buffer = self._buffer, b""
        event = _parse_line(rest)
        return [event] if event is not None else []


def _parse_line(line: bytes) -> StreamEvent | None:
    line = line.strip()
    if not line.startswith(b"data:"):
        return None
    data = line[5:].strip()
    if data == b"[DONE]":
        return StreamEvent(done=True)
    try:
        payload = parse_json(data, max_bytes=MAX_BODY_BYTES, field="stream event")
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    text = payload.get("response")
    calls = payload.get("tool_calls")
    if (choices := payload.get("choices")) and isinstance(choices, list) and isinstance(choices[0], dict):
        delta = choices[0].get("delta") or {}  # an OpenAI-compatible provider's chunk
        text = text if text is not None else delta.get("content")
        calls = calls or delta.get("tool_calls")
    usage = payload.get("usage")
    return StreamEvent(
        text=text if isinstance(text, str) else "",
        usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))) if usage else None,
        tool_calls=tool_call_pieces(calls),
    )


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as JSON text: models send a string, or (older ones) the object itself."""
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, separators=(",", ":"))


def tool_call_pieces(raw: Any) -> list[ToolCallPiece]:
    """The pieces of tool calls in one stream event. A piece with no id, name nor arguments (the
    null entry some models send to close a call) says nothing and is left out; a piece without
    an index belongs to the call at its place in the list."""
    pieces = []
    for position, entry in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(entry, dict):
            continue
        function = entry.get("function")
        if not isinstance(function, dict):
            function = {}
        name = function.get("name", entry.get("name"))
        arguments = arguments_text(function.get("arguments", entry.get("arguments")))
        call_id = entry.get("id")
        if not call_id and not name and not arguments:
            continue
        index = entry.get("index")
        pieces.append(ToolCallPiece(index=index if isinstance(index, int) else position,
                                    id=call_id if isinstance(call_id, str) and call_id else None,
                                    name=name if isinstance(name, str) and name else None, arguments=arguments))
    return pieces
