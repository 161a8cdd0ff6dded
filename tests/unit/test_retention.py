"""Bounded storage: the hourly rollups kept up by indexing (each batch once), and the purge of raw
events past the retention window (inference/events/retention.py, run by the cron), which leaves
hourly and daily metrics as they were."""

import asyncio
import json

from inference.events import retention
from inference.store.d1 import Database
from shared.analytics import MetricQuery
from shared.contract import Caller
from tests.fakes import D1, inference_env

H = 3_600_000
DAY = 24 * H
T0 = 1_800_000_000_000 - 1_800_000_000_000 % DAY


def ndjson(events: list[dict]) -> str:
    return "".join(json.dumps({"name": None, "component": None, "session_id": None, "user_id": None, "properties": None, **e}) + "\n"
                   for e in events)


def totals(db: Database, start: int, end: int, bucket: str = "day") -> dict:
    series = asyncio.run(db.metric_series(MetricQuery(caller=Caller(key_id="k"), metric="events_by_type", start_ms=start, end_ms=end,
                                                      bucket=bucket)))
    return {t.key: t.value for t in series.totals}


def test_a_batch_is_rolled_up_once_however_often_it_is_indexed():
    d1 = D1()
    db = Database(d1)
    batch = ndjson([{"id": "a", "type": "view", "ts": T0 + 10}, {"id": "b", "type": "view", "ts": T0 + H + 10},
                    {"id": "c", "type": "click", "ts": T0 + 20, "component": "Chat"}])

    asyncio.run(db.index_batch("k", "b1", "events/x.ndjson", T0, batch))
    asyncio.run(db.index_batch("k", "b1", "events/x.ndjson", T0, batch))  # a replay, or a message delivered twice
    asyncio.run(db.index_batch("k", "b2", "events/y.ndjson", T0, ndjson([{"id": "a", "type": "view", "ts": T0 + 10}])))  # a dup id

    assert sorted(d1.rows("SELECT hour, type, component, count FROM event_rollups")) == [
        (T0, "click", "Chat", 1), (T0, "view", "", 1), (T0 + H, "view", "", 1)]
    assert totals(db, T0, T0 + DAY) == {"click": 1, "view": 2}


def test_past_the_retention_window_raw_events_go_and_the_metrics_stay():
    d1 = D1()
    db = Database(d1)
    old = [{"id": f"o{i}", "type": "view", "ts": T0 + i * H} for i in range(30)]
    recent = [{"id": f"r{i}", "type": "click", "ts": T0 + 40 * DAY + i} for i in range(5)]
    asyncio.run(db.index_batch("k", "b-old", "events/old.ndjson", T0, ndjson(old)))
    asyncio.run(db.index_batch("k", "b-new", "events/new.ndjson", T0 + 40 * DAY, ndjson(recent)))
    before = totals(db, T0, T0 + 41 * DAY)

    # The clock moved forward: 30 days after the recent batch's day, with a 30-day window.
    deleted = asyncio.run(db.purge_events(T0 + 40 * DAY - 30 * DAY + DAY))

    assert deleted == 30
    assert d1.rows("SELECT COUNT(*) FROM events") == [(5,)]
    assert d1.rows("SELECT id FROM batches") == [("b-new",)]
    assert totals(db, T0, T0 + 41 * DAY) == before == {"view": 30, "click": 5}
    assert asyncio.run(db.purge_events(T0 + 11 * DAY)) == 0  # nothing more to do


def test_the_scheduled_purge_deletes_what_is_past_the_configured_window_and_keeps_the_rest():
    env = inference_env(EVENTS_RETENTION_DAYS="30")
    db = Database(env.DB)
    asyncio.run(db.index_batch("k", "b-old", "events/old.ndjson", T0, ndjson([{"id": f"o{i}", "type": "view", "ts": T0 + i}
                                                                              for i in range(25)])))
    asyncio.run(db.index_batch("k", "b-new", "events/new.ndjson", T0, ndjson([{"id": "n", "type": "view", "ts": T0 + 20 * DAY}])))

    deleted = asyncio.run(retention.purge_expired(env, now=(T0 + 40 * DAY) / 1000))

    assert deleted == 25
    assert env.DB.rows("SELECT id FROM events") == [("n",)]
