"""The tool calls in a model's answer: read from a whole answer (flat `{name, arguments}` or
OpenAI's `{id, type, function}`), or joined from a stream's pieces as they come, each piece told
to the client's encoder (a call's start, its arguments' pieces, its end). Plain Python."""

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from shared.contract import TOOL_NAME_PATTERN, ToolCall
from shared.streams import Encoder
from shared.workers_ai import ToolCallPiece, tool_call_pieces

_TOOL_NAME = re.compile(TOOL_NAME_PATTERN)


def new_call_id() -> str:
    """An id for a call the model gave none (OpenAI's form)."""
    return f"call_{secrets.token_hex(12)}"


@dataclass
class _Call:
    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)
    position: int | None = None  # once started: its place among the answer's calls, the index the client sees


class ToolCallAssembler:
    """Joins the pieces of an answer's tool calls, by the model's index. A call starts (for the
    client) with its first piece that names it; arguments sent before that go out with the start.
    `parallel=False` keeps the answer's first call only (the request's `parallel_tool_calls`)."""

    def __init__(self, parallel: bool = True) -> None:
        self.parallel = parallel
        self._calls: dict[int, _Call] = {}

    def feed(self, pieces: list[ToolCallPiece], encoder: Encoder | None = None) -> str:
        """Takes a stream event's pieces; what the client is told of them (nothing without an encoder)."""
        out = []
        for piece in pieces:
            call = self._calls.get(piece.index)
            if call is None:
                if self._calls and not self.parallel:
                    continue
                call = self._calls[piece.index] = _Call()
            call.id = call.id or piece.id
            call.name = call.name or piece.name
            if piece.arguments:
                call.arguments.append(piece.arguments)
            if call.position is None and call.name and _TOOL_NAME.match(call.name):
                call.position = sum(c.position is not None for c in self._calls.values())
                call.id = call.id or new_call_id()
                if encoder:
                    out.append(encoder.tool_call_start(call.position, call.id, call.name))
                    out.append(encoder.tool_call_delta(call.position, "".join(call.arguments)))
            elif call.position is not None and piece.arguments and encoder:
                out.append(encoder.tool_call_delta(call.position, piece.arguments))
        return "".join(out)

    @property
    def calls(self) -> list[ToolCall]:
        """The calls so far, in the answer's order (one never named is left out)."""
        started = sorted((c for c in self._calls.values() if c.position is not None), key=lambda c: c.position or 0)
        return [ToolCall(id=c.id, name=c.name, arguments="".join(c.arguments) or "{}") for c in started]

    def finish(self, encoder: Encoder) -> str:
        """Each call's end, now that the stream has ended."""
        return "".join(encoder.tool_call_end(position, call) for position, call in enumerate(self.calls))


def as_pieces(calls: list[ToolCall]) -> list[ToolCallPiece]:
    """Whole calls (a cached answer's, an unstreamed one's) as the pieces a stream would bring."""
    return [ToolCallPiece(index, call.id, call.name, call.arguments) for index, call in enumerate(calls)]


def parse_tool_calls(raw: Any, parallel: bool = True) -> list[ToolCall]:
    """The calls of a whole answer's `tool_calls`, in either shape Workers AI (or an
    OpenAI-compatible provider) answers with; ids minted for calls that came without one."""
    assembler = ToolCallAssembler(parallel)
    assembler.feed(tool_call_pieces(raw))
    return assembler.calls

