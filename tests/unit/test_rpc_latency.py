"""The RPC hop's latency counts (shared/rpc_latency.py) and the SQL that reads percentiles from
them, on SQLite (what D1 is) with the project's migrations."""

import sqlite3
from pathlib import Path

from inference.store.analytics_sql import metric_sql, shape
from inference.store.d1 import ADD_RPC_LATENCY_SQL
from shared.analytics import MetricQuery
from shared.contract import Caller
from shared.rpc_latency import MAX_CELLS, LatencyTally, bucket_bound

MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))
H = 3_600_000
T0 = 1_800_000_000_000 - 1_800_000_000_000 % H


def test_a_call_is_counted_in_the_first_bucket_that_holds_it():
    assert [bucket_bound(ms) for ms in (0.3, 1, 1.01, 7, 50, 51, 10**9)] == [1, 1, 2, 10, 50, 100, 3_600_000]


def test_counts_are_kept_per_minute_caller_and_method_until_a_flush_is_due():
    tally = LatencyTally(flush_interval_ms=60_000)
    tally.add("k1", "generate", 12, T0 + 5)
    tally.add("k1", "generate", 15, T0 + 59_000)
    tally.add("k2", "generate", 12, T0 + 60_000)

    assert not tally.due(T0 + 59_999)
    assert tally.due(T0 + 60_005)
    assert sorted(tally.drain(T0 + 60_005)) == [(T0, "k1", "generate", 20, 2), (T0 + 60_000, "k2", "generate", 20, 1)]
    assert tally.counts == {} and not tally.due(T0 + 10**9)


def test_a_full_tally_is_due_whatever_the_interval():
    tally = LatencyTally(flush_interval_ms=10**12)
    for i in range(MAX_CELLS):
        tally.add(f"k{i}", "generate", 1, T0)
    assert tally.due(T0)


def series(conn, key_id, **extra):
    query = MetricQuery(caller=Caller(key_id=key_id), metric="rpc_latency", start_ms=T0, end_ms=T0 + 2 * H, **extra)
    (points_sql, points_params), (totals_sql, totals_params) = metric_sql(query)
    points = [dict(r) for r in conn.execute(points_sql, points_params)]
    totals = [dict(r) for r in conn.execute(totals_sql, totals_params)]
    return shape(query, points, totals)


def test_percentiles_per_method_from_the_summed_counts_for_the_callers_key_only():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    tally = LatencyTally()
    for ms in [3] * 90 + [40] * 9 + [900]:  # 100 calls in the first hour
        tally.add("k1", "stream_generation", ms, T0 + 1_000)
    tally.add("k1", "embed", 150, T0 + H + 1_000)  # the second hour
    tally.add("k2", "stream_generation", 20_000, T0 + 1_000)  # another caller's
    rows = tally.drain(T0)
    conn.executemany(ADD_RPC_LATENCY_SQL, rows[:2])
    conn.executemany(ADD_RPC_LATENCY_SQL, rows[2:])  # a second flush adds to the first's counts
    conn.executemany(ADD_RPC_LATENCY_SQL, [(T0 + 1_000 - 1_000 % 60_000, "k1", "stream_generation", 1_000, 10)])  # 10 more

    totals = {t.key: t.value for t in series(conn, "k1").totals}
    assert totals == {"embed:p50": 200, "embed:p95": 200, "embed:p99": 200,
                      "stream_generation:p50": 5, "stream_generation:p95": 1_000, "stream_generation:p99": 1_000}
    points = {(p.bucket, p.key): p.value for p in series(conn, "k1", bucket="hour").points}
    assert points[("2027-01-15T09:00:00Z", "embed:p50")] == 200
    assert {key for _, key in points} == set(totals)
    assert {t.key: t.value for t in series(conn, "k2").totals} == {f"stream_generation:{p}": 30_000 for p in ("p50", "p95", "p99")}
