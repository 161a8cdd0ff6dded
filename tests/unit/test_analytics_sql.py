"""The analytics SQL runs against SQLite (what D1 is) with the project's migrations."""

import base64
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference.store.analytics_sql import events_sql, metric_sql, shape
from shared.analytics import EventQuery, MetricQuery, decode_cursor, encode_cursor
from shared.contract import Caller

ROLLUP_ALL = ("INSERT INTO event_rollups (key_id, hour, type, component, count) SELECT key_id, ts - ts % 3600000, type, "
              "COALESCE(component, ''), COUNT(*) FROM events WHERE true GROUP BY 1, 2, 3, 4")
MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))
H = 3_600_000
T0 = 1_800_000_000_000 - 1_800_000_000_000 % H


@pytest.fixture
def db():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    rows = [("k1", "e1", "view", "Chat", T0 + 10), ("k1", "e2", "error", "Chat", T0 + 20), ("k1", "e3", "view", None, T0 + H + 5),
            ("k2", "e4", "view", "Chat", T0 + 30)]
    conn.executemany("INSERT INTO events (key_id, id, type, component, ts, batch_id) VALUES (?, ?, ?, ?, ?, 'b')", rows)
    conn.execute(ROLLUP_ALL)  # what indexing keeps up, batch by batch
    latencies = [10, 20, 30, 40, 100]
    conn.executemany(
        "INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens) VALUES ('k1', ?, 'm', 'chat', 'ok', ?, 1, 2, 3)",
        [(T0 + i, ms) for i, ms in enumerate(latencies)])
    return conn


def shape_bucket(ms):
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def series(db, metric, **extra):
    query = MetricQuery(caller=Caller(key_id="k1"), metric=metric, start_ms=T0, end_ms=T0 + 2 * H, **extra)
    (points_sql, points_params), (totals_sql, totals_params) = metric_sql(query)
    points = [dict(r) for r in db.execute(points_sql, points_params)]
    totals = [dict(r) for r in db.execute(totals_sql, totals_params)]
    return shape(query, points, totals)


def test_events_by_type_per_hour_for_the_callers_key_only(db):
    result = series(db, "events_by_type")

    first, second = shape_bucket(T0), shape_bucket(T0 + H)
    assert [(p.bucket, p.key, p.value) for p in result.points] == [(first, "error", 1), (first, "view", 1), (second, "view", 1)]
    assert [(t.key, t.value) for t in result.totals] == [("error", 1), ("view", 2)]


def test_components_name_the_missing_one_and_filters_apply(db):
    assert [(t.key, t.value) for t in series(db, "events_by_component").totals] == [("(none)", 1), ("Chat", 2)]
    assert [(t.key, t.value) for t in series(db, "events_by_type", filter={"component": "Chat"}).totals] == [("error", 1), ("view", 1)]


def test_error_rate(db):
    result = series(db, "error_rate")

    assert [p.value for p in result.points] == [0.5, 0.0]
    assert result.totals[0].value == pytest.approx(1 / 3)


def test_latency_percentiles_are_nearest_rank(db):
    totals = {t.key: t.value for t in series(db, "ai_latency").totals}

    # Five calls: p50 is the 3rd smallest, p95 the 5th.
    assert totals == {"p50": 30, "p95": 100}


def test_tokens_by_model(db):
    assert [(t.key, t.value) for t in series(db, "tokens_by_model").totals] == [("m", 25)]


def test_cost_by_model_sums_what_each_call_cost(db):
    db.execute("INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens, "
               "provider, cost_usd) VALUES ('k1', ?, 'big', 'chat', 'ok', 5, 1, 10, 10, 'external', 0.25)", (T0 + H + 1,))

    result = series(db, "cost_by_model")

    assert [(t.key, t.value) for t in result.totals] == [("big", 0.25), ("m", 0.0)]
    assert [(p.bucket, p.key) for p in result.points] == [(shape_bucket(T0), "m"), (shape_bucket(T0 + H), "big")]


@pytest.mark.parametrize("metric", ["events_by_type", "events_by_component", "error_rate"])
@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_rollups_answer_as_the_raw_events_would(db, metric, bucket):
    start, end = T0 - 24 * H, T0 + 24 * H
    rolled = MetricQuery(caller=Caller(key_id="k1"), metric=metric, start_ms=start, end_ms=end, bucket=bucket)
    raw = MetricQuery(caller=Caller(key_id="k1"), metric=metric, start_ms=start + 1, end_ms=end, bucket=bucket)  # cuts an hour

    def run(query):
        (points_sql, points_params), (totals_sql, totals_params) = metric_sql(query)
        return ([dict(r) for r in db.execute(points_sql, points_params)], [dict(r) for r in db.execute(totals_sql, totals_params)], points_sql)

    rolled_points, rolled_totals, rolled_sql = run(rolled)
    raw_points, raw_totals, raw_sql = run(raw)

    assert "event_rollups" in rolled_sql and "FROM events" in raw_sql
    assert rolled_points == raw_points and rolled_totals == raw_totals


def test_ranges_are_checked():
    with pytest.raises(ValueError, match="after"):
        MetricQuery(caller=Caller(key_id="k"), metric="error_rate", start_ms=10, end_ms=10)
    with pytest.raises(ValueError, match="buckets"):
        MetricQuery(caller=Caller(key_id="k"), metric="error_rate", start_ms=0, end_ms=3 * 86_400_000, bucket="minute")


def test_event_pages_follow_their_cursors(db):
    caller = Caller(key_id="k1")
    sql, params = events_sql(EventQuery(caller=caller, first=2))
    first = [dict(r) for r in db.execute(sql, params)]
    assert [r["id"] for r in first] == ["e3", "e2", "e1"]  # one extra row says there is more

    sql, params = events_sql(EventQuery(caller=caller, first=2, after=encode_cursor(first[1]["ts"], first[1]["id"])))
    assert [r["id"] for r in db.execute(sql, params)] == ["e1"]
    assert decode_cursor(encode_cursor(5, "x")) == (5, "x")
    with pytest.raises(ValueError):
        decode_cursor("garbage!")


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("text", [
    "[" * 5_000 + "]" * 5_000,  # json.loads recursed once a level: the isolate's stack overflowed
    "[100000000000000000000000000000, \"e1\"]",  # past SQLite's 64-bit integers: D1 failed on it
    "[1, null]", "[1]", "[1, \"e1\", 3]", "[-1, \"e1\"]", "[1.5, \"e1\"]", "[\"1\", \"e1\"]", "[1, \"\"]",
    "[1, \"" + "x" * 129 + "\"]", "[[1], \"e1\"]", "{\"ts\": 1, \"id\": \"e1\"}",
])
def test_only_a_cursor_of_the_exact_shape_given_out_is_read(text):
    with pytest.raises(ValueError, match="not a cursor this API gave out"):
        decode_cursor(cursor_of(text))


def test_a_cursor_at_the_edges_of_its_ranges_is_read():
    assert decode_cursor(cursor_of(f'[{2**63 - 1}, "{"x" * 128}"]')) == (2**63 - 1, "x" * 128)
    assert decode_cursor(cursor_of('[0, "e"]')) == (0, "e")


def test_guardrail_blocks_count_the_moderation_calls_that_blocked(db):
    for outcome in ("blocked_prompt", "blocked_prompt", "blocked_answer", "ok"):
        db.execute("INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens) "
                   "VALUES ('k1', ?, '@cf/meta/llama-guard-3-8b', 'moderation', ?, 5, 5, 10, 1)", (T0 + 1, outcome))

    assert [(t.key, t.value) for t in series(db, "guardrail_blocks").totals] == [("answer", 1), ("prompt", 2)]
