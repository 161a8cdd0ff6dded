"""Metrics and event listings from D1, with answers cached in KV for ANALYTICS_CACHE_SECONDS.

A cached answer's key holds the caller's analytics version, which every landed batch (and
every model call) bumps in the same D1 transaction that writes the data: a stale answer is
never served after new data has landed, whatever the TTL."""

import json
from typing import Any

from inference.cache import read_cached, write_cached
from inference.settings import settings_of
from shared.analytics import EventQuery, MetricQuery, encode_cursor, events_sql, metric_sql, shape

VERSION_SQL = "SELECT version FROM analytics_versions WHERE key_id = ?1"


async def get_metrics(env: Any, query: MetricQuery) -> dict[str, Any]:
    row = await env.DB.prepare(VERSION_SQL).bind(query.caller.key_id).first()
    version = row["version"] if row else 0
    cache_key = f"analytics:v1:{query.caller.key_id}:{version}:{query.cache_id()}"
    if cached := await read_cached(env, cache_key):
        return {**json.loads(cached), "cached": True}
    (points_sql, points_params), (totals_sql, totals_params) = metric_sql(query)
    points, totals = await env.DB.batch([
        env.DB.prepare(points_sql).bind(*points_params),
        env.DB.prepare(totals_sql).bind(*totals_params),
    ])
    series = shape(query, [dict(r) for r in points.results], [dict(r) for r in totals.results]).model_dump(mode="json")
    await write_cached(env, cache_key, json.dumps(series), settings_of(env).analytics_cache_seconds)
    return series


async def list_events(env: Any, query: EventQuery) -> dict[str, Any]:
    sql, params = events_sql(query)
    rows = [dict(r) for r in (await env.DB.prepare(sql).bind(*params).all()).results]
    page, more = rows[: query.first], len(rows) > query.first
    events = [
        {
            "id": r["id"], "type": r["type"], "name": r["name"], "component": r["component"],
            "session_id": r["session_id"], "user_id": r["user_id"], "ts": r["ts"],
            "properties": json.loads(r["props_json"]) if r["props_json"] else None,
            "enrichment": json.loads(r["enrichment_json"]) if r["enrichment_json"] else None,
            "cursor": encode_cursor(r["ts"], r["id"]),
        }
        for r in page
    ]
    return {"events": events, "has_next_page": more, "end_cursor": events[-1]["cursor"] if events else None}
