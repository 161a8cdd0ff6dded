"""Migrations never destroy data: a database that applied the first three migrations, with rows
in every table, keeps every row through the rest (as `wrangler d1 migrations apply` runs them)."""

import sqlite3
from pathlib import Path

MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))


def test_every_row_written_before_the_later_migrations_is_there_after_them():
    db = sqlite3.connect(":memory:")
    early, later = MIGRATIONS[:3], MIGRATIONS[3:]
    assert [m.name[:4] for m in early] == ["0001", "0002", "0003"]
    for migration in early:
        db.executescript(migration.read_text())
    events = [(f"e{i}", f"key{i % 2}", "view" if i % 3 else "error", None, "Chat", "s1", None, 1_800_000_000_000 + i, '{"n": 1}', None, "b1")
              for i in range(50)]
    db.executemany("INSERT INTO events (id, key_id, type, name, component, session_id, user_id, ts, props_json, enrichment_json, batch_id) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    db.execute("INSERT INTO api_keys (id, prefix, hash, name, tier, created_at) VALUES ('k', 'p', 'h', 'n', 'pro', '2026-01-01')")
    db.execute("INSERT INTO usage_daily (key_id, day, requests, prompt_tokens, completion_tokens, cache_hits, events) "
               "VALUES ('k', '2026-01-01', 3, 10, 20, 1, 50)")
    db.execute("INSERT INTO batches (id, key_id, r2_key, received_at, indexed_at) VALUES ('b1', 'key0', 'events/x', '2026', '2026')")

    for migration in later:
        db.executescript(migration.read_text())

    assert sorted(db.execute("SELECT id, key_id, type, name, component, session_id, user_id, ts, props_json, enrichment_json, batch_id "
                             "FROM events")) == sorted(events)
    assert db.execute("SELECT id, tier FROM api_keys").fetchall() == [("k", "pro")]
    assert db.execute("SELECT requests, prompt_tokens, events FROM usage_daily").fetchall() == [(3, 10, 50)]
    assert db.execute("SELECT id FROM batches").fetchall() == [("b1",)]
    # The later migrations' own work holds too: the rollups count the events that were there.
    assert db.execute("SELECT SUM(count) FROM event_rollups").fetchone() == (50,)


def test_no_migration_drops_a_table_without_moving_its_rows():
    for migration in MIGRATIONS:
        text = migration.read_text().upper()
        for statement in (s.strip() for s in text.split(";")):
            if statement.startswith("DROP TABLE"):
                table = statement.split()[-1]
                assert f"FROM {table}" in text, f"{migration.name} drops {table} without copying its rows"
