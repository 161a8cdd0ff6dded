"""Guardrails, the plain part: which of a caller's generations are checked (GUARDRAILS, by tier or
by key), the moderation model's verdict read, the conversation as it reads it, and the refusal of
what it flagged. The checks themselves are the inference worker's (inference/guardrails.py).

GUARDRAILS (inference_worker/wrangler.toml [vars]) is JSON:
  {"tiers": {"free": ["prompt", "answer"]}, "keys": {"<key id>": ["answer"]}}
A key's entry replaces its tier's (an empty list turns the checks off for that key)."""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from shared.base import Model
from shared.contract import ChatMessage, ServiceFailure
from shared.errors import ErrorCode
from shared.json_reader import parse_var_as

Stage = Literal["prompt", "answer"]

# Llama Guard 3's hazard categories (MLCommons' taxonomy), as its verdicts name them.
HAZARDS = {
    "S1": "violent crimes", "S2": "non-violent crimes", "S3": "sex-related crimes", "S4": "child sexual exploitation",
    "S5": "defamation", "S6": "specialized advice", "S7": "privacy", "S8": "intellectual property",
    "S9": "indiscriminate weapons", "S10": "hate", "S11": "suicide and self-harm", "S12": "sexual content",
    "S13": "elections", "S14": "code interpreter abuse",
}


class GuardrailsConfigError(ValueError):
    """GUARDRAILS cannot be used: named, so the log says why."""


class Guardrails(Model):
    tiers: dict[str, list[Stage]] = {}
    keys: dict[str, list[Stage]] = {}

    def stages_for(self, key_id: str, tier: str) -> frozenset[str]:
        """What is checked of this caller's generations."""
        return frozenset(self.keys[key_id] if key_id in self.keys else self.tiers.get(tier, ()))


_GUARDRAILS: TypeAdapter[Guardrails] = TypeAdapter(Guardrails)  # built at import, as the models' validators are


def parse_guardrails(text: str) -> Guardrails:
    return parse_var_as(_GUARDRAILS, text, "GUARDRAILS", GuardrailsConfigError)


@dataclass(frozen=True)
class Verdict:
    safe: bool
    categories: tuple[str, ...] = ()

    def described(self) -> str:
        """The categories as the refusal names them: "S1 (violent crimes)"."""
        named = [f"{c} ({HAZARDS[c]})" if c in HAZARDS else c for c in self.categories]
        return ", ".join(named) or "unspecified"


def verdict_of(response: Any) -> Verdict:
    """The model's verdict: in JSON mode {"safe": bool, "categories": [...]}, else its text
    ("safe", or "unsafe" and the categories on the next line). Anything else is no verdict: unsafe,
    so a moderation model that answers nonsense blocks rather than lets through."""
    if isinstance(response, dict) and isinstance(response.get("safe"), bool):
        return Verdict(response["safe"], tuple(str(c) for c in response.get("categories") or ()))
    if isinstance(response, str):
        lines = response.strip().splitlines()
        if lines and lines[0].strip().lower() == "safe":
            return Verdict(True)
        if lines and lines[0].strip().lower() == "unsafe":
            categories = lines[1].replace(" ", "").split(",") if len(lines) > 1 else []
            return Verdict(False, tuple(c for c in categories if c))
    return Verdict(False, ("unreadable verdict",))


def moderation_messages(messages: list[ChatMessage], answer: str | None = None) -> list[dict[str, str]]:
    """The conversation as Llama Guard reads it: user and assistant turns, alternating, starting with
    the user's (a system prompt is the operator's, not checked; consecutive turns of one role are
    joined); the answer, when it is checked, as the last assistant turn."""
    turns: list[dict[str, str]] = []
    for role, text in [*((m.role, m.content) for m in messages), *([("assistant", answer)] if answer is not None else [])]:
        if role not in ("user", "assistant") or not text or (not turns and role == "assistant"):
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


def blocked(stage: Stage, verdict: Verdict) -> ServiceFailure:
    what = "prompt" if stage == "prompt" else "answer"
    return ServiceFailure(code=ErrorCode.CONTENT_BLOCKED, message=f"The {what} was blocked by the guardrails: {verdict.described()}",
                          details={"field": "messages" if stage == "prompt" else "answer", "stage": stage,
                                   "categories": list(verdict.categories)})
