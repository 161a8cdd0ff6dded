"""UI events: per-event validation of a batch (`checked_events`, the one entry point: POST /events'
body and GraphQL's trackEvents go through it), ids that make retries harmless, and the NDJSON
form a batch is archived in.

A batch is checked event by event: the valid ones are accepted even when others are not, and
each rejected one is reported with its index, field and reason. An event's id is its
idempotency key: the client's, or else one derived from the whole batch and the event's place
in it, so a batch sent again (a retry) gets the same ids and counts nothing twice.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple, NotRequired

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, with_config
from pydantic_core import to_json
from typing_extensions import TypedDict  # pydantic takes typing's TypedDict from Python 3.12 only

from shared.base import Model
from shared.errors import ApiError, ErrorCode
from shared.json_reader import JsonRefused, parse_internal_as, parse_json_as, read_json
from shared.limits import MAX_BODY_BYTES

MAX_PROPERTIES_BYTES = 8_192
MAX_PAST_MS = 30 * 86_400_000  # events older than 30 days are refused
MAX_FUTURE_MS = 5 * 60_000  # clock skew allowed into the future
# Checked by pydantic-core (Rust: `$` is the end of the text, a trailing newline included).
TYPE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$"
TYPE_RULE = "must start with a letter and hold at most 64 letters, digits or _ . : -"
PROPERTIES_RULE = f"must serialize to at most {MAX_PROPERTIES_BYTES} bytes"

_Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
_Text = Annotated[str, StringConstraints(max_length=128)]


@with_config(ConfigDict(extra="forbid"))
class EventIn(TypedDict):
    """An event as a client sends it, validated into the dict it is stored as (sessionId and
    userId renamed; `checked_events` gives it its id and time). A TypedDict, not a model: a batch
    is validated in one call into pydantic-core, with no Python code per event."""

    id: NotRequired[_Id | None]
    type: Annotated[str, StringConstraints(pattern=TYPE_PATTERN)]
    name: NotRequired[_Text | None]
    component: NotRequired[_Text | None]
    session_id: NotRequired[Annotated[_Text | None, Field(validation_alias="sessionId")]]
    user_id: NotRequired[Annotated[_Text | None, Field(validation_alias="userId")]]
    # ISO 8601 or unix milliseconds; the time of receipt when absent.
    timestamp: NotRequired[datetime | int | None]
    # At most MAX_PROPERTIES_BYTES of compact JSON, checked on the event's stored line (`_checked_batch`).
    properties: NotRequired[dict[str, Any] | None]


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


class CheckedBatch(NamedTuple):
    events: list[dict[str, Any]]  # the accepted events as stored (an Event's fields, ids assigned; absent ones are null)
    ndjson: str  # the same, one JSON line each, as archived
    rejected: list[Rejection]  # why each other event was not accepted


def _millis(value: datetime | int | None, now_ms: int) -> int:
    if value is None:
        return now_ms
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    return value


def batch_digest(events: list[Any]) -> str:
    """The batch's fingerprint: its events' JSON (the same for a retry), written in Rust."""
    return hashlib.sha256(to_json(events, inf_nan_mode="null")).hexdigest()


# Built at import, as the models' validators are (shared/base.py).
_BATCH_VALIDATOR = TypeAdapter(list[EventIn])
_EVENT_VALIDATOR = TypeAdapter(EventIn)


class _EventsBody(TypedDict):
    events: list[EventIn]


_BODY_VALIDATOR: TypeAdapter[list[EventIn] | _EventsBody] = TypeAdapter(list[EventIn] | _EventsBody)


def _checked(raw_events: list[Any]) -> Sequence[EventIn | Rejection]:
    """Each event validated, or why not. The whole list in one call first (one pass in Rust for
    the usual batch, every event valid); event by event only to find which ones are not."""
    try:
        return _BATCH_VALIDATOR.validate_python(raw_events)
    except ValidationError:
        pass
    checked: list[EventIn | Rejection] = []
    for index, raw in enumerate(raw_events):
        try:
            checked.append(_EVENT_VALIDATOR.validate_python(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "event"
            message = TYPE_RULE if first["type"] == "string_pattern_mismatch" else first["msg"]
            checked.append(Rejection(index=index, field=field, message=message))
    return checked


def checked_events(source: bytes | list[Any], now_ms: int, *, max_events: int, max_bytes: int = MAX_BODY_BYTES) -> CheckedBatch:
    """The one way a batch is checked, whoever sent it: a request body (a bare array, or
    {"events": [...]}, within `max_bytes`) or events already read (GraphQL's trackEvents). Its
    valid events as stored and archived, and why each other one was not accepted; raises the 4xx
    naming the field when the batch as a whole is refused (not JSON, no list of events, empty,
    over `max_events`, or not one valid event)."""
    if isinstance(source, list):
        raw_events, validated = source, False
    elif (valid := _valid_events(source, max_bytes)) is not None:
        raw_events, validated = valid, True  # the usual body, every event valid: checked from its text in one pass
    else:
        raw_events, validated = _events_of(read_json(source, max_bytes=max_bytes)), False
    if not raw_events:
        raise ApiError(ErrorCode.INVALID_REQUEST, "events: send at least one event", field="events")
    if len(raw_events) > max_events:
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"events: at most {max_events} a batch; this one has {len(raw_events)}",
                       field="events", limit=max_events)
    batch = _checked_batch(raw_events, now_ms, validated=validated)
    if not batch.events:
        rejections = [r.model_dump() for r in batch.rejected]
        raise ApiError(ErrorCode.INVALID_REQUEST, f"No valid events ({rejections[0]['field']}: {rejections[0]['message']})",
                       field="events", rejected=rejections)
    return batch


def _events_of(body: Any) -> list[Any]:
    """A body's events, read by the JSON reader: the array itself, or its `events` array."""
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        message = "send a JSON array of events, or an object with an `events` array"
        raise ApiError(ErrorCode.INVALID_REQUEST, f"body: {message}", field="body", errors=[{"field": "body", "message": message}])
    events = body.get("events")
    if not isinstance(events, list):
        message = "Field required" if "events" not in body else "Input should be a valid list"
        raise ApiError(ErrorCode.INVALID_REQUEST, f"events: {message}", field="events", errors=[{"field": "events", "message": message}])
    return events


def _valid_events(body: bytes, max_bytes: int) -> list[EventIn] | None:
    """The events of a request body (a bare array, or {"events": [...]}) that holds only valid
    ones, validated by pydantic-core straight from the JSON text (no `json.loads`) once it is
    within the reader's budget (shared/json_reader.py); None when any is not, or the text is
    outside the budget or not JSON that reads back as it was sent (a lone surrogate escape): the
    body is then read and checked event by event, or refused."""
    try:
        value = parse_json_as(_BODY_VALIDATOR, body, max_bytes=max_bytes)
    except (JsonRefused, ValidationError):
        return None
    return value if isinstance(value, list) else value["events"]


def _checked_batch(raw_events: list[Any], now_ms: int, *, validated: bool) -> CheckedBatch:
    """The batch's valid events as stored and archived, and why the others are not.
    `validated`: `raw_events` are `_valid_events`' already."""
    checked = raw_events if validated else _checked(raw_events)
    # Generated ids follow from the batch's valid events as validated: the same for a batch sent
    # again. A batch whose events all carry their own needs none (nor the serialization it takes).
    valid = [event for event in checked if type(event) is dict]
    prefix = "" if all(event.get("id") for event in valid) else f"gen-{batch_digest(valid)[:32]}-"
    accepted: list[dict[str, Any]] = []
    places: list[int] = []  # each accepted event's index in the batch
    rejected: list[Rejection] = []
    for index, event in enumerate(checked):
        if type(event) is not dict:
            rejected.append(event)
            continue
        event["ts"] = ts = _millis(event.pop("timestamp", None), now_ms)
        if not now_ms - MAX_PAST_MS <= ts <= now_ms + MAX_FUTURE_MS:
            rejected.append(Rejection(index=index, field="timestamp", message="must be within the last 30 days and not in the future"))
            continue
        if not event.get("id"):
            event["id"] = f"{prefix}{index}"
        accepted.append(event)
        places.append(index)
    lines = _lines(accepted)
    for at in reversed(range(len(lines))):
        # A line holds its event's properties: only a line that long can hold too many of them.
        properties = accepted[at].get("properties")
        if len(lines[at]) > MAX_PROPERTIES_BYTES and len(to_json(properties, inf_nan_mode="null")) > MAX_PROPERTIES_BYTES:
            rejected.append(Rejection(index=places[at], field="properties", message=PROPERTIES_RULE))
            del accepted[at], lines[at]
    rejected.sort(key=lambda rejection: rejection.index)  # the properties' ones were found last
    return CheckedBatch(accepted, "\n".join(lines) + "\n" if lines else "", rejected)


def _lines(events: list[dict[str, Any]]) -> list[str]:
    """Each event's stored JSON line, from one serialization of the whole batch: in the array,
    "},{" stands between every two events; unless it also stands inside one (a list of objects,
    or a string holding it), each one is where a line ends."""
    if not events:
        return []
    inner = to_json(events, inf_nan_mode="null")[1:-1]
    if inner.count(b"},{") == len(events) - 1:
        return inner.replace(b"},{", b"}\n{").decode().split("\n")
    return [to_json(event, inf_nan_mode="null").decode() for event in events]


def group_counts(events: Iterable[dict[str, Any] | Event]) -> list[tuple[str, str, int]]:
    """How many events of each (type, component), the most frequent first (a batch's Analytics
    Engine points are made from them)."""
    pairs = ((e["type"], e.get("component") or "") if isinstance(e, dict) else (e.type, e.component or "") for e in events)
    return [(type_, component, count) for (type_, component), count in Counter(pairs).most_common()]


def to_ndjson(events: list[Event]) -> str:
    """Event models one a line, as archived (the api's own batches are written by `checked_events`)."""
    return "".join(event.model_dump_json() + "\n" for event in events)


def from_ndjson(text: str) -> list[Event]:
    return [parse_internal_as(Event, line, field="event line") for line in text.splitlines() if line.strip()]
