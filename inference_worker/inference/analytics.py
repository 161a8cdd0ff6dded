"""Metrics and event listings from D1, with answers cached in KV for ANALYTICS_CACHE_SECONDS.

A cached answer's key holds the caller's analytics version, which every landed batch (and
every model call) bumps in the same D1 transaction that writes the data: a stale answer is
never served after new data has landed, whatever the TTL."""

from typing import Any

from inference.settings import settings_of
from inference.store import stores_of
from shared.analytics import EventPage, EventQuery, MetricQuery, MetricSeries
from shared.json_reader import parse_internal_as


async def get_metrics(env: Any, query: MetricQuery) -> MetricSeries:
    stores = stores_of(env)
    version = await stores.db.analytics_version(query.caller.key_id)
    cache_key = f"analytics:v1:{query.caller.key_id}:{version}:{query.cache_id()}"
    if cached := await stores.cache.get(cache_key):
        return parse_internal_as(MetricSeries, cached, field="cached metrics").model_copy(update={"cached": True})
    series = await stores.db.metric_series(query)
    await stores.cache.put(cache_key, series.model_dump_json(), settings_of(env).analytics_cache_seconds)
    return series


async def list_events(env: Any, query: EventQuery) -> EventPage:
    return await stores_of(env).db.event_page(query)
