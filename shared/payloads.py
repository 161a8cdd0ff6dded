"""Payload logs: a generation's prompt and answer, kept in R2 for a retention window where the
caller's key or tier opted in (PAYLOAD_LOG_KEYS, PAYLOAD_LOG_TIERS), redacted first
(shared/redaction.py), read by the admin for one call (GraphQL `payloadLog(callId)`: the
request id, the x-request-id header), deleted by the cron once expired. A request whose
x-payload-log header says `off` leaves nothing. This module is the pure part: who is opted in,
the header, what a kept payload holds, where it lives, and when it expires
(inference/payloads.py writes, reads and deletes them)."""

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from shared.base import Model
from shared.contract import Caller, ChatMessage, ToolCall
from shared.errors import ApiError, ErrorCode
from shared.redaction import redact

PAYLOAD_LOG_HEADER = "x-payload-log"
_OFF = frozenset({"off", "false", "0", "no"})
_ON = frozenset({"on", "true", "1", "yes"})
PREFIX = "payloads/"
CALL_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # a request id: cf-ray deployed, a uuid's hex, or a test's own


def keeps_payload(header: str | None) -> bool:
    """What the request's x-payload-log header allows: `off` (or false, 0, no) keeps nothing of
    it; `on` or none leaves it to the caller's key and tier. Any other value is refused."""
    if header is None or header.strip().lower() in _ON:
        return True
    if header.strip().lower() in _OFF:
        return False
    raise ApiError(ErrorCode.INVALID_REQUEST, f"{PAYLOAD_LOG_HEADER} must be 'off' or 'on'", field=PAYLOAD_LOG_HEADER)


def _names(value: str) -> frozenset[str]:
    return frozenset(name.strip() for name in value.split(",") if name.strip())


@dataclass(frozen=True)
class PayloadPolicy:
    """Whose payloads are kept, and for how long."""

    tiers: frozenset[str] = frozenset()
    key_ids: frozenset[str] = frozenset()
    retention_days: float = 7.0

    @classmethod
    def parse(cls, tiers: str | None, key_ids: str | None, retention_days: float) -> "PayloadPolicy":
        return cls(_names(tiers or ""), _names(key_ids or ""), retention_days)

    def keeps(self, caller: Caller, allowed: bool) -> bool:
        """Whether a call of `caller` is kept (`allowed`: its request did not turn it off)."""
        return allowed and self.retention_days > 0 and (caller.tier in self.tiers or caller.key_id in self.key_ids)


class KeptMessage(Model):
    role: str
    content: str
    tool_calls: list[ToolCall] = []


class PayloadLog(Model):
    """One call's prompt and answer as kept: every text redacted."""

    call_id: str
    key_id: str
    tier: str
    kind: str
    model: str
    provider: str
    outcome: Literal["ok", "failed"]
    created_at: float  # seconds since the epoch
    expires_at: float
    messages: list[KeptMessage]
    answer: str
    tool_calls: list[ToolCall] = []
    traceparent: str | None = None


class PayloadRef(Model):
    """The admin's question: one call's payload (its request id)."""

    call_id: str = Field(pattern=CALL_ID.pattern)


def _redacted_calls(calls: list[ToolCall]) -> list[ToolCall]:
    return [call.model_copy(update={"arguments": redact(call.arguments)}) for call in calls]


def payload_of(call_id: str, caller: Caller, kind: str, model: str, provider: str, outcome: Literal["ok", "failed"],
               messages: list[ChatMessage], answer: str, tool_calls: list[ToolCall], now: float, retention_days: float,
               traceparent: str | None = None) -> PayloadLog:
    """The payload to keep of a call, redacted (an image is kept as a marker, never its bytes)."""
    kept = [KeptMessage(role=m.role, content=redact(m.content) + "".join(" [image]" for _ in m.images),
                        tool_calls=_redacted_calls(m.tool_calls)) for m in messages]
    return PayloadLog(call_id=call_id, key_id=caller.key_id, tier=caller.tier, kind=kind, model=model, provider=provider,
                      outcome=outcome, created_at=now, expires_at=now + retention_days * 86_400, messages=kept,
                      answer=redact(answer), tool_calls=_redacted_calls(tool_calls), traceparent=traceparent)


def object_key(call_id: str) -> str:
    """Where a call's payload lives in R2 (one call id, one object: a call sent again overwrites it)."""
    return f"{PREFIX}{call_id}.json"


def is_expired(expires_at: float, now: float) -> bool:
    return expires_at <= now
