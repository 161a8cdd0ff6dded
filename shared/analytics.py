"""Analytics queries: what a caller may ask for (metrics over a range, event listings with
opaque cursors) and the shape of the answer. The SQL that answers them is the inference
worker's (inference/store/analytics_sql.py)."""

import base64
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr, TypeAdapter, field_validator, model_validator

from shared.base import Model
from shared.contract import Caller
from shared.events import Event
from shared.json_reader import parse_json_as

BUCKET_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_BUCKETS = 2_000
MAX_RANGE_MS = 400 * 86_400_000
Metric = Literal["events_by_type", "events_by_component", "error_rate", "ai_latency", "tokens_by_model", "cost_by_model",
                 "guardrail_blocks", "requests_by_arm", "errors_by_arm", "latency_by_arm", "tokens_by_arm", "cost_by_arm",
                 "rpc_latency"]
EVENT_METRICS = {"events_by_type", "events_by_component", "error_rate"}
# A traffic split's arms (shared/splits.py), compared: the calls on each, keyed by arm.
ARM_METRICS = {"requests_by_arm", "errors_by_arm", "latency_by_arm", "tokens_by_arm", "cost_by_arm"}


class MetricFilter(Model):
    type: str | None = None
    component: str | None = None
    model: str | None = None
    split: str | None = None  # the *_BY_ARM metrics: one traffic split's arms


class MetricQuery(Model):
    caller: Caller
    metric: Metric
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    bucket: Literal["minute", "hour", "day"] = "hour"
    filter: MetricFilter = Field(default_factory=MetricFilter)

    @model_validator(mode="after")
    def _sane_range(self) -> "MetricQuery":
        if self.end_ms <= self.start_ms:
            raise ValueError("range: `to` must be after `from`")
        if self.end_ms - self.start_ms > MAX_RANGE_MS:
            raise ValueError("range: at most 400 days")
        if (self.end_ms - self.start_ms) / BUCKET_MS[self.bucket] > MAX_BUCKETS:
            raise ValueError(f"range: at most {MAX_BUCKETS} buckets; choose a larger bucket")
        return self

    def cache_id(self) -> str:
        return hashlib.sha256(self.model_dump_json(exclude={"caller"}).encode()).hexdigest()[:32]


class MetricPoint(Model):
    bucket: str | None  # ISO start of the bucket; None in totals
    key: str | None  # the group (type, component, model, p50/p95); None where ungrouped
    value: float


class MetricSeries(Model):
    metric: Metric
    bucket: str
    points: list[MetricPoint]
    totals: list[MetricPoint]
    cached: bool = False


# --- event listing, newest first, with opaque cursors ---------------------------------------

class EventQuery(Model):
    caller: Caller
    first: int = Field(default=50, ge=1, le=100)
    after: str | None = None
    type: str | None = None
    component: str | None = None
    session_id: str | None = None

    @field_validator("after")
    @classmethod
    def _a_cursor_we_gave_out(cls, after: str | None) -> str | None:
        if after is not None:
            decode_cursor(after)  # a client's mistake, found before any query runs
        return after


class EventRecord(Event):
    """A stored event as `events` lists it: with its enrichment and its page cursor."""

    enrichment: Any = None
    cursor: str


class EventPage(Model):
    events: list[EventRecord]
    has_next_page: bool
    end_cursor: str | None = None


def encode_cursor(ts: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([ts, event_id]).encode()).decode()


# What `encode_cursor` writes, exactly: an event's time (unix milliseconds; SQLite's integers are
# 64-bit, a larger one fails the query) and its id (an event id's length), and nothing else.
_CURSOR = TypeAdapter(tuple[Annotated[StrictInt, Field(ge=0, le=2**63 - 1)], Annotated[StrictStr, Field(min_length=1, max_length=128)]])
MAX_CURSOR_BYTES = 256


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The (time, id) a cursor of `encode_cursor` holds; ValueError for anything else (a client's mistake)."""
    try:
        return parse_json_as(_CURSOR, base64.urlsafe_b64decode(cursor.encode()), max_bytes=MAX_CURSOR_BYTES,
                             max_depth=1, field="after")
    except ValueError as exc:  # not base64, outside the reader's budget, or not the shape above
        raise ValueError("not a cursor this API gave out") from exc
