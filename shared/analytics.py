"""Analytics queries: what a caller may ask for, the D1 SQL that answers it (bound parameters
only), and the shape of the answer. Every metric is scoped to the caller's key and computed
per time bucket plus a total over the whole range.

Latency percentiles use the nearest-rank definition: the p-th percentile is the smallest
latency whose cumulative share of calls (CUME_DIST) is at least p."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.base import Model
from shared.contract import Caller
from shared.events import Event

BUCKET_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_BUCKETS = 2_000
MAX_RANGE_MS = 400 * 86_400_000
Metric = Literal["events_by_type", "events_by_component", "error_rate", "ai_latency", "tokens_by_model"]
EVENT_METRICS = {"events_by_type", "events_by_component", "error_rate"}


class MetricFilter(Model):
    type: str | None = None
    component: str | None = None
    model: str | None = None


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


def _where(query: MetricQuery, params: list[Any]) -> str:
    """The WHERE clause for the caller, the range and the filter; params grows to match."""

    def bind(value: Any) -> str:
        params.append(value)
        return f"?{len(params)}"

    clauses = [f"key_id = {bind(query.caller.key_id)}", f"ts >= {bind(query.start_ms)}", f"ts < {bind(query.end_ms)}"]
    if query.metric in EVENT_METRICS:
        if query.filter.type is not None:
            clauses.append(f"type = {bind(query.filter.type)}")
        if query.filter.component is not None:
            clauses.append(f"component = {bind(query.filter.component)}")
    else:
        clauses.append("outcome = 'ok'" if query.metric == "ai_latency" else "1 = 1")
        if query.filter.model is not None:
            clauses.append(f"model = {bind(query.filter.model)}")
    return " AND ".join(clauses)


def metric_sql(query: MetricQuery) -> list[tuple[str, list[Any]]]:
    """(sql, params) for the per-bucket points, then for the totals."""
    size = BUCKET_MS[query.bucket]
    statements = []
    for bucketed in (True, False):
        params: list[Any] = []
        where = _where(query, params)
        bucket = "NULL"
        if bucketed:
            params.append(size)
            # `%` works on integers in SQLite even when D1 binds the bucket size as a float.
            bucket = f"(ts - ts % ?{len(params)})"
        group = "GROUP BY bucket, key ORDER BY bucket, key"
        if query.metric == "events_by_type":
            sql = f"SELECT {bucket} AS bucket, type AS key, COUNT(*) AS value FROM events WHERE {where} {group}"
        elif query.metric == "events_by_component":
            sql = f"SELECT {bucket} AS bucket, COALESCE(component, '(none)') AS key, COUNT(*) AS value FROM events WHERE {where} {group}"
        elif query.metric == "error_rate":
            sql = (f"SELECT {bucket} AS bucket, NULL AS key, CAST(SUM(type = 'error') AS REAL) / COUNT(*) AS value "
                   f"FROM events WHERE {where} {group}")
        elif query.metric == "tokens_by_model":
            sql = (f"SELECT {bucket} AS bucket, model AS key, SUM(prompt_tokens + completion_tokens) AS value "
                   f"FROM ai_calls WHERE {where} {group}")
        else:  # ai_latency: p50 and p95 per bucket
            partition = f"PARTITION BY {bucket}" if bucketed else ""
            sql = (
                f"WITH ranked AS (SELECT {bucket} AS bucket, latency_ms, "
                f"CUME_DIST() OVER ({partition} ORDER BY latency_ms) AS share FROM ai_calls WHERE {where}) "
                "SELECT bucket, 'p50' AS key, MIN(CASE WHEN share >= 0.5 THEN latency_ms END) AS value FROM ranked GROUP BY bucket "
                "UNION ALL "
                "SELECT bucket, 'p95' AS key, MIN(CASE WHEN share >= 0.95 THEN latency_ms END) AS value FROM ranked GROUP BY bucket "
                "ORDER BY bucket, key"
            )
        statements.append((sql, params))
    return statements


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shape(query: MetricQuery, point_rows: list[dict[str, Any]], total_rows: list[dict[str, Any]]) -> MetricSeries:
    def point(row: dict[str, Any]) -> MetricPoint:
        bucket = row.get("bucket")
        return MetricPoint(bucket=_iso(int(bucket)) if bucket is not None else None, key=row.get("key"),
                           value=float(row.get("value") or 0))

    return MetricSeries(metric=query.metric, bucket=query.bucket,
                        points=[point(r) for r in point_rows], totals=[point(r) for r in total_rows])


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


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        ts, event_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(ts), str(event_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor this API gave out") from exc


def events_sql(query: EventQuery) -> tuple[str, list[Any]]:
    params: list[Any] = [query.caller.key_id]
    clauses = ["key_id = ?1"]
    for column, value in (("type", query.type), ("component", query.component), ("session_id", query.session_id)):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = ?{len(params)}")
    if query.after:
        ts, event_id = decode_cursor(query.after)
        params += [ts, event_id]
        clauses.append(f"(ts, id) < (?{len(params) - 1}, ?{len(params)})")
    params.append(query.first + 1)  # one more than asked: is there a next page?
    sql = (
        "SELECT id, type, name, component, session_id, user_id, ts, props_json, enrichment_json FROM events "
        f"WHERE {' AND '.join(clauses)} ORDER BY ts DESC, id DESC LIMIT ?{len(params)}"
    )
    return sql, params
