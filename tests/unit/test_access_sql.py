"""The admission SQL on SQLite (what D1 is), with the project's migrations."""

import sqlite3
from pathlib import Path

from inference import access

MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))


def database():
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    return conn


def test_each_request_in_a_window_gets_the_next_count():
    conn = database()

    counts = [conn.execute(access.COUNT_REQUEST_SQL, ["k1", 600]).fetchone()[0] for _ in range(3)]
    other_key = conn.execute(access.COUNT_REQUEST_SQL, ["k2", 600]).fetchone()[0]
    next_window = conn.execute(access.COUNT_REQUEST_SQL, ["k1", 660]).fetchone()[0]

    assert (counts, other_key, next_window) == ([1, 2, 3], 1, 1)


def test_old_windows_of_a_key_are_dropped_and_others_kept():
    conn = database()
    for key, start in (("k1", 540), ("k1", 600), ("k2", 540)):
        conn.execute(access.COUNT_REQUEST_SQL, [key, start])

    conn.execute(access.DROP_OLD_WINDOWS_SQL, ["k1", 600])

    assert conn.execute("SELECT key_id, window_start FROM rate_windows ORDER BY 1, 2").fetchall() == [("k1", 600), ("k2", 540)]


def test_the_window_and_the_seconds_left_in_it():
    assert access._window(1_000_000_030.5) == (1_000_000_020, 50)
    assert access._seconds_to_midnight(86_400 * 3 + 3_600) == 82_800


def test_a_key_is_found_by_prefix_and_revoked_once():
    conn = database()
    conn.execute(access.INSERT_KEY_SQL, ["key_1", "abcd1234", "h", "app", "pro", "2026-11-22T00:00:00+00:00"])

    assert conn.execute(access.FIND_KEY_SQL, ["abcd1234"]).fetchone() == ("key_1", "h", "pro", None)
    assert conn.execute(access.REVOKE_KEY_SQL, ["key_1", "2026-11-23"]).fetchall() == [("key_1",)]
    assert conn.execute(access.REVOKE_KEY_SQL, ["key_1", "2026-11-24"]).fetchall() == []
