"""KeyCounter, a Durable Object per API key (or JWT subject): its per-minute request windows and
its usage today, which admission reads and counts in one call, exactly, whatever isolate or
location the request came through (one object per key, one request at a time).

Admission used to count each request in D1 (a write a request, on the database that also indexes
events); the counter keeps it in the object's own SQLite storage instead. Usage reaches the
counter from the work itself (a model call's tokens and cost, an indexed batch's events), as it
reaches D1; on a new day the counter seeds itself once from D1's usage_daily, so a key's quota
holds across the first deploy of the counter and across an object that was evicted."""

import asyncio
import json
from typing import Any

from workers import DurableObject

from inference.access import slots_to_take
from inference.store import stores_of
from inference.store.d1 import EMPTY_USAGE
from shared.json_reader import parse_internal

USAGE_FIELDS = tuple(EMPTY_USAGE)  # requests, prompt_tokens, completion_tokens, cache_hits, events, cost_usd


class KeyCounter(DurableObject):
    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        # The runtime's SqlStorage, not the SDK's per-value wrapper: each exec is a few values.
        self._sql = getattr(ctx, "_ctx", ctx).storage.sql
        self._sql.exec("CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)")
        self._sql.exec("CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, "
                       + ", ".join(f"{name} REAL NOT NULL DEFAULT 0" for name in USAGE_FIELDS) + ")")
        self._seeding = asyncio.Lock()
        # Today's row, as stored: one object per key and one instance of it, so every write to the
        # row goes through here and the copy stays exact (a new instance reads it back once).
        self._day: str | None = None
        self._used: dict[str, float] = {}

    def _one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        rows = self._sql.exec(sql, *params).toArray().to_py()
        return dict(rows[0]) if rows else None

    async def _today(self, key_id: str, day: str) -> dict[str, float]:
        if self._day == day:
            return self._used
        row = self._one("SELECT * FROM days WHERE day = ?", day)
        if row is None:
            async with self._seeding:  # the first request of the day reads D1 once; the others wait for it
                row = self._one("SELECT * FROM days WHERE day = ?", day)
                if row is None:
                    seeded = await stores_of(self.env).db.usage_today(key_id, day)
                    self._sql.exec(f"INSERT OR IGNORE INTO days (day, {', '.join(USAGE_FIELDS)}) VALUES (?, "
                                   + ", ".join("?" for _ in USAGE_FIELDS) + ")", day, *(seeded[name] for name in USAGE_FIELDS))
                    self._sql.exec("DELETE FROM days WHERE day < ?", day)
                    row = self._one("SELECT * FROM days WHERE day = ?", day)
        self._day, self._used = day, {name: row[name] for name in USAGE_FIELDS}
        return self._used

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0) -> str:
        """Counts a request in its window, with up to `reserve` - 1 more slots for the caller's next
        reads, as far as `limit` allows (always the request itself: a refused request counts too):
        {"count": the window's count with them, "taken": how many, "used": today's usage}."""
        row = self._sql.exec("SELECT count FROM windows WHERE start = ?", window_start).toArray()
        current = int(row[0].count) if row.length else 0
        taken = slots_to_take(current, int(reserve), int(limit))
        count = int(self._sql.exec("INSERT INTO windows (start, count) VALUES (?, ?) ON CONFLICT (start) DO UPDATE "
                                   "SET count = count + excluded.count RETURNING count", window_start, taken).one().count)
        if count == taken:  # a new window: the ones before it are done with
            self._sql.exec("DELETE FROM windows WHERE start < ?", window_start)
        return json.dumps({"count": count, "taken": taken, "used": await self._today(key_id, day)})

    async def peek(self, key_id: str, window_start: int, day: str) -> str:
        """The same, counting nothing (a usage report)."""
        row = self._one("SELECT count FROM windows WHERE start = ?", window_start)
        return json.dumps({"count": int(row["count"]) if row else 0, "used": await self._today(key_id, day)})

    async def add(self, key_id: str, day: str, delta: str) -> None:
        """Adds usage (JSON: any of the usage fields) to the day's."""
        used = await self._today(key_id, day)
        changes = {name: value for name, value in parse_internal(delta, field="usage delta").items() if name in USAGE_FIELDS}
        if changes:
            self._sql.exec("UPDATE days SET " + ", ".join(f"{name} = {name} + ?" for name in changes) + " WHERE day = ?",
                           *changes.values(), day)
            if self._day == day:
                for name, value in changes.items():
                    used[name] += value
