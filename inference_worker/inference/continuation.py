"""Mid-stream continuation: when a streamed answer's model fails or goes silent after it sent
text, the next model of the request's chain is asked to go on from that text (given as the
start of its own, assistant, message) and the client's stream carries on as one answer.
Plain Python: generation.py opens the continuing model's stream and relays it.

Not for an answer that may call tools (a call cut in half cannot be handed over), nor when the
request opts out (`continuation: false`). A structured object may be continued: its whole text
is still checked against its schema at the end."""

from dataclasses import dataclass
from typing import Any

from shared.contract import GenerationRequest
from shared.workers_ai import estimate_tokens


@dataclass(frozen=True)
class Continued:
    """Which model's answer was taken up by which, and after how much of it (characters)."""

    from_model: str
    by_model: str
    by_provider: str
    after_chars: int

    def as_metadata(self) -> dict[str, Any]:
        return {"from": self.from_model, "by": self.by_model, "provider": self.by_provider, "afterChars": self.after_chars}


def can_continue(req: GenerationRequest, sent_text: str) -> bool:
    """Whether a broken stream of `req` may be handed to another model, `sent_text` being sent."""
    return req.continuation and not req.tools and bool(sent_text)


def attempts_after(attempts: list[tuple[str, str]], current: tuple[str, str]) -> list[tuple[str, str]]:
    """The attempts the chain still holds after the one whose stream broke."""
    return attempts[attempts.index(current) + 1:] if current in attempts else []


def continuation_inputs(inputs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The first model's inputs with the answer so far as the assistant's own message, which the
    next model goes on from (Workers AI's chat models and OpenAI-compatible providers both take a
    trailing assistant message), and what is left of the answer's token budget."""
    left = max(1, inputs["max_tokens"] - estimate_tokens(len(prefix)))
    return {**inputs, "messages": [*inputs["messages"], {"role": "assistant", "content": prefix}], "max_tokens": left}


class Seam:
    """The continuing model's text, less a restart of the answer: a model that reads the partial
    answer as a finished turn may begin the answer again. Text is held only while it may still
    be such a restart (while it matches the answer's start), so a continuation that goes on from
    where the answer stopped passes at once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.held = ""
        self.decided = not prefix

    def feed(self, text: str) -> str:
        if self.decided or not text:
            return text
        self.held += text
        if self.prefix.startswith(self.held):
            return ""
        self.decided = True
        held, self.held = self.held, ""
        return held[len(self.prefix):] if held.startswith(self.prefix) else held

    def close(self) -> str:
        """What is still held at the end: a restart of the answer that stopped short, dropped
        (the client has all of it already)."""
        self.decided, self.held = True, ""
        return ""
