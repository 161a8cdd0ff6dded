"""UI events: per-event validation of a batch, ids that make retries harmless, and the NDJSON
form a batch is archived in.

A batch is checked event by event: the valid ones are accepted even when others are not, and
each rejected one is reported with its index, field and reason. An event's id is its
idempotency key: the client's, or else one derived from the whole batch and the event's place
in it, so a batch sent again (a retry) gets the same ids and counts nothing twice.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import to_json

from shared.base import Model

MAX_PROPERTIES_BYTES = 8_192
MAX_PAST_MS = 30 * 86_400_000  # events older than 30 days are refused
MAX_FUTURE_MS = 5 * 60_000  # clock skew allowed into the future
# Checked by pydantic-core (Rust: `$` is the end of the text, a trailing newline included).
TYPE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$"
TYPE_RULE = "must start with a letter and hold at most 64 letters, digits or _ . : -"


class EventIn(Model):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=128)
    type: str = Field(pattern=TYPE_PATTERN)
    name: str | None = Field(default=None, max_length=128)
    component: str | None = Field(default=None, max_length=128)
    sessionId: str | None = Field(default=None, max_length=128)
    userId: str | None = Field(default=None, max_length=128)
    # ISO 8601 or unix milliseconds; the time of receipt when absent.
    timestamp: datetime | int | None = None
    properties: dict[str, Any] | None = None

    @field_validator("properties")
    @classmethod
    def _properties_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # Its compact JSON in UTF-8, as stored; serialized by pydantic-core (Rust), once per event.
        if value is not None and len(to_json(value)) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"must serialize to at most {MAX_PROPERTIES_BYTES} bytes")
        return value


class Event(Model):
    """An accepted event, as stored: ids assigned, time in unix milliseconds."""

    id: str
    type: str
    name: str | None = None
    component: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    ts: int
    properties: dict[str, Any] | None = None


class Rejection(Model):
    index: int
    field: str
    message: str


def _millis(value: datetime | int | None, now_ms: int) -> int:
    if value is None:
        return now_ms
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    return value


def batch_digest(raw_events: list[Any]) -> str:
    """The batch's fingerprint: its JSON as sent (the same for a retry), written in Rust."""
    return hashlib.sha256(to_json(raw_events, inf_nan_mode="null")).hexdigest()


@cache  # built on the first batch, not at import: every cold start would pay for it
def _batch_validator() -> TypeAdapter:
    return TypeAdapter(list[EventIn])


@cache
def _events_validator() -> TypeAdapter:
    return TypeAdapter(list[Event])


def _checked(raw_events: list[Any]) -> list[EventIn | Rejection]:
    """Each event validated, or why not. The whole list in one call first (one pass in Rust for
    the usual batch, every event valid); event by event only to find which ones are not."""
    try:
        return list(_batch_validator().validate_python(raw_events))
    except ValidationError:
        pass
    checked: list[EventIn | Rejection] = []
    for index, raw in enumerate(raw_events):
        try:
            checked.append(EventIn.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "event"
            message = TYPE_RULE if first["type"] == "string_pattern_mismatch" else first["msg"].removeprefix("Value error, ")
            checked.append(Rejection(index=index, field=field, message=message))
    return checked


def accepted_events(raw_events: list[Any], now_ms: int) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """The batch's valid events as stored (an Event's fields, ids assigned), and why the others
    are not: what the api hands to the inference service, as NDJSON (`to_ndjson`)."""
    digest = batch_digest(raw_events)
    accepted: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    for index, event in enumerate(_checked(raw_events)):
        if isinstance(event, Rejection):
            rejected.append(event)
            continue
        ts = _millis(event.timestamp, now_ms)
        if not now_ms - MAX_PAST_MS <= ts <= now_ms + MAX_FUTURE_MS:
            rejected.append(Rejection(index=index, field="timestamp", message="must be within the last 30 days and not in the future"))
            continue
        accepted.append({
            "id": event.id or f"gen-{digest[:32]}-{index}",
            "type": event.type,
            "name": event.name,
            "component": event.component,
            "session_id": event.sessionId,
            "user_id": event.userId,
            "ts": ts,
            "properties": event.properties,
        })
    return accepted, rejected


def validate_batch(raw_events: list[Any], now_ms: int) -> tuple[list[Event], list[Rejection]]:
    """`accepted_events`, as Event models."""
    accepted, rejected = accepted_events(raw_events, now_ms)
    return _events_validator().validate_python(accepted), rejected  # all at once: one call into Rust


def group_counts(events: Iterable[dict[str, Any] | Event]) -> list[tuple[str, str, int]]:
    """How many events of each (type, component), the most frequent first (a batch's Analytics
    Engine points are made from them)."""
    pairs = ((e["type"], e["component"] or "") if isinstance(e, dict) else (e.type, e.component or "") for e in events)
    return [(type_, component, count) for (type_, component), count in Counter(pairs).most_common()]


def to_ndjson(events: list[Event] | list[dict[str, Any]]) -> str:
    """One event a line, as archived; an accepted event's dict and its Event give the same line."""
    return "".join((to_json(e, inf_nan_mode="null").decode() if isinstance(e, dict) else e.model_dump_json()) + "\n" for e in events)


def from_ndjson(text: str) -> list[Event]:
    return [Event.model_validate_json(line) for line in text.splitlines() if line.strip()]
