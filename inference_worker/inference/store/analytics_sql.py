"""The analytics SQL (bound parameters only) and the shape of its answer. Every metric is scoped
to the caller's key and computed per time bucket plus a total over the whole range.

Event metrics by the hour or day over a range on whole hours read the hourly rollups
(`event_rollups`: their cost does not grow with the number of events, and they outlast the raw
events' retention window); by the minute, or over a range that cuts an hour, the raw events.

Latency percentiles use the nearest-rank definition: the p-th percentile is the smallest
latency whose cumulative share of calls (CUME_DIST) is at least p."""

from datetime import UTC, datetime
from typing import Any

from shared.analytics import ARM_METRICS, BUCKET_MS, EVENT_METRICS, EventQuery, MetricPoint, MetricQuery, MetricSeries, decode_cursor

HOUR_MS = 3_600_000


def rolled_up(query: MetricQuery) -> bool:
    """Whether the hourly rollups answer the query exactly."""
    return (query.metric in EVENT_METRICS and query.bucket != "minute"
            and query.start_ms % HOUR_MS == 0 and query.end_ms % HOUR_MS == 0)


def _where(query: MetricQuery, params: list[Any]) -> str:
    """The WHERE clause for the caller, the range and the filter; params grows to match."""

    def bind(value: Any) -> str:
        params.append(value)
        return f"?{len(params)}"

    time = "hour" if rolled_up(query) else "ts"
    clauses = [f"key_id = {bind(query.caller.key_id)}", f"{time} >= {bind(query.start_ms)}", f"{time} < {bind(query.end_ms)}"]
    if query.metric in EVENT_METRICS:
        if query.filter.type is not None:
            clauses.append(f"type = {bind(query.filter.type)}")
        if query.filter.component is not None:
            clauses.append(f"component = {bind(query.filter.component)}")
    else:
        clauses.append("outcome = 'ok'" if query.metric in ("ai_latency", "latency_by_arm") else "1 = 1")
        if query.filter.model is not None:
            clauses.append(f"model = {bind(query.filter.model)}")
        if query.metric in ARM_METRICS:
            clauses.append("arm IS NOT NULL" if query.filter.split is None else f"split = {bind(query.filter.split)} AND arm IS NOT NULL")
    return " AND ".join(clauses)


# What each arm metric sums up over its calls (an error: neither answered nor cancelled by its client).
ARM_VALUES = {
    "requests_by_arm": "COUNT(*)",
    "errors_by_arm": "SUM(outcome NOT IN ('ok', 'cache_hit', 'cancelled'))",
    "latency_by_arm": "AVG(latency_ms)",
    "tokens_by_arm": "SUM(prompt_tokens + completion_tokens)",
    "cost_by_arm": "SUM(cost_usd)",
}


def metric_sql(query: MetricQuery) -> list[tuple[str, list[Any]]]:
    """(sql, params) for the per-bucket points, then for the totals."""
    size = BUCKET_MS[query.bucket]
    rolled = rolled_up(query)
    table, time = ("event_rollups", "hour") if rolled else ("events", "ts")
    count = "SUM(count)" if rolled else "COUNT(*)"
    errors = "SUM(CASE WHEN type = 'error' THEN count ELSE 0 END)" if rolled else "SUM(type = 'error')"
    component = "COALESCE(NULLIF(component, ''), '(none)')" if rolled else "COALESCE(component, '(none)')"
    statements = []
    for bucketed in (True, False):
        params: list[Any] = []
        where = _where(query, params)
        bucket = "NULL"
        if bucketed:
            params.append(size)
            # `%` works on integers in SQLite even when D1 binds the bucket size as a float.
            bucket = f"({time} - {time} % ?{len(params)})" if query.metric in EVENT_METRICS else f"(ts - ts % ?{len(params)})"
        group = "GROUP BY bucket, key ORDER BY bucket, key"
        if query.metric == "events_by_type":
            sql = f"SELECT {bucket} AS bucket, type AS key, {count} AS value FROM {table} WHERE {where} {group}"
        elif query.metric == "events_by_component":
            sql = f"SELECT {bucket} AS bucket, {component} AS key, {count} AS value FROM {table} WHERE {where} {group}"
        elif query.metric == "error_rate":
            sql = (f"SELECT {bucket} AS bucket, NULL AS key, CAST({errors} AS REAL) / {count} AS value "
                   f"FROM {table} WHERE {where} {group}")
        elif query.metric == "tokens_by_model":
            sql = (f"SELECT {bucket} AS bucket, model AS key, SUM(prompt_tokens + completion_tokens) AS value "
                   f"FROM ai_calls WHERE {where} {group}")
        elif query.metric == "cost_by_model":
            sql = f"SELECT {bucket} AS bucket, model AS key, SUM(cost_usd) AS value FROM ai_calls WHERE {where} {group}"
        elif query.metric in ARM_METRICS:
            sql = f"SELECT {bucket} AS bucket, arm AS key, {ARM_VALUES[query.metric]} AS value FROM ai_calls WHERE {where} {group}"
        elif query.metric == "guardrail_blocks":  # the moderation calls that blocked (inference/guardrails.py)
            sql = (f"SELECT {bucket} AS bucket, substr(outcome, 9) AS key, COUNT(*) AS value FROM ai_calls "
                   f"WHERE {where} AND kind = 'moderation' AND outcome IN ('blocked_prompt', 'blocked_answer') {group}")
        elif query.metric == "rpc_latency":
            sql = _rpc_latency_sql(query, bucketed, params)
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


def _rpc_latency_sql(query: MetricQuery, bucketed: bool, params: list[Any]) -> str:
    """The RPC hop's p50, p95 and p99 per method (points keyed `method:p95`), from the counts per
    latency bucket (shared/rpc_latency.py): each the smallest bucket bound whose cumulative count
    is at least that share of the calls. Its own range and caller clause: the counts are per
    minute, in their own table (`params` holds the bucket size, if bucketed, and is rebuilt)."""
    size = params[-1] if bucketed else None
    params.clear()
    params += [query.caller.key_id, query.start_ms, query.end_ms]
    bucket = "NULL"
    if size is not None:
        params.append(size)
        bucket = "(minute_ms - minute_ms % ?4)"
    ranks = " UNION ALL ".join(
        f"SELECT bucket, method || ':{name}' AS key, MIN(CASE WHEN cumulative >= {share} * total THEN le_ms END) AS value "
        "FROM ranked GROUP BY bucket, method" for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)))
    return ("WITH counted AS (SELECT " + bucket + " AS bucket, method, le_ms, SUM(count) AS n FROM rpc_latency "
            "WHERE key_id = ?1 AND minute_ms >= ?2 AND minute_ms < ?3 GROUP BY bucket, method, le_ms), "
            "ranked AS (SELECT bucket, method, le_ms, SUM(n) OVER (PARTITION BY bucket, method ORDER BY le_ms) AS cumulative, "
            "SUM(n) OVER (PARTITION BY bucket, method) AS total FROM counted) "
            f"{ranks} ORDER BY bucket, key")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shape(query: MetricQuery, point_rows: list[dict[str, Any]], total_rows: list[dict[str, Any]]) -> MetricSeries:
    def point(row: dict[str, Any]) -> MetricPoint:
        bucket = row.get("bucket")
        return MetricPoint(bucket=_iso(int(bucket)) if bucket is not None else None, key=row.get("key"),
                           value=float(row.get("value") or 0))

    return MetricSeries(metric=query.metric, bucket=query.bucket,
                        points=[point(r) for r in point_rows], totals=[point(r) for r in total_rows])


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
