"""KeyCounter, a Durable Object per API key (or JWT subject): its per-minute request windows and
its usage today, which admission reads and counts in one call, exactly, whatever isolate or
location the request came through (one object per key, one request at a time).

The counter keeps its counts in the object's own SQLite storage, not in D1, so that admission
writes nothing to the database that also indexes events. Usage reaches the
counter from the work itself (a model call's tokens and cost, carried by the key's next admission
or written by its isolate's batch: inference/usage_batch.py; an indexed batch's events), as it
reaches D1; on a new day the counter seeds itself once from D1's usage_daily, so a key's quota
holds across the first deploy of the counter and across an object that was evicted."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from workers import DurableObject

from inference.store import stores_of
from inference.store.d1 import EMPTY_USAGE
from shared import clock
from shared.json_reader import parse_internal
from shared.leases import slots_to_take
from shared.reservations import Ledger, Quotas, Reservation, minute_of
from shared.sdk import runtime_ctx

USAGE_FIELDS = tuple(EMPTY_USAGE)  # requests, prompt_tokens, completion_tokens, cache_hits, events, cost_usd
# The ids admitted in the current window kept in memory at most (~0.45 MiB of 32-character ids):
# past it (a flood of one key's requests) a resend is looked up in storage, as a new instance's is.
MAX_KEPT_IDS = 4096


@dataclass
class _Window:
    start: int
    count: int
    ids: set[str] | None  # the admissions counted in it; None: too many to keep, looked up in storage

    def remember(self, admission_id: str) -> None:
        if self.ids is not None:
            self.ids.add(admission_id)
            if len(self.ids) > MAX_KEPT_IDS:
                self.ids = None


class KeyCounter(DurableObject):
    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self._sql = runtime_ctx(ctx).storage.sql
        self._sql.exec("CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)")
        self._sql.exec("CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, "
                       + ", ".join(f"{name} REAL NOT NULL DEFAULT 0" for name in USAGE_FIELDS) + ")")
        # Reservations of the day's quotas held by requests in flight (shared/reservations.py).
        self._sql.exec("CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, day TEXT NOT NULL, reservation TEXT NOT NULL)")
        # The admissions counted in the current window, by request id: one sent again (after a
        # failover) is answered as it was, never counted twice.
        self._sql.exec("CREATE TABLE IF NOT EXISTS admitted (id TEXT PRIMARY KEY, start INTEGER NOT NULL, answer TEXT NOT NULL)")
        # AI tokens used per minute window (a key's tokens_per_minute: shared/policy.py).
        self._sql.exec("CREATE TABLE IF NOT EXISTS minute_tokens (start INTEGER PRIMARY KEY, tokens REAL NOT NULL)")
        self._seeding = asyncio.Lock()
        # Today's row and reservations, as stored: one object per key and one instance of it, so
        # every write goes through here and the copy stays exact (a new instance reads it back once).
        self._day: str | None = None
        self._ledger: Ledger | None = None
        # The budget period whose earlier days' spend the ledger holds (its first day), for today.
        self._period: tuple[str, str] | None = None
        # The current window's count and the ids admitted in it, read back once per window and kept
        # as they are written (every write goes through here), so a count reads no row.
        self._window: _Window | None = None
        self._tokens_minute = 0  # the minute whose earlier token windows were dropped

    def _one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        rows = self._sql.exec(sql, *params).toArray().to_py()
        return dict(rows[0]) if rows else None

    async def _today(self, key_id: str, day: str) -> Ledger:
        if self._day == day:
            return self._ledger
        row = self._one("SELECT * FROM days WHERE day = ?", day)
        if row is None:
            async with self._seeding:  # the first request of the day reads D1 once; the others wait for it
                row = self._one("SELECT * FROM days WHERE day = ?", day)
                if row is None:
                    seeded = await stores_of(self.env).db.usage_today(key_id, day)
                    self._sql.exec(f"INSERT OR IGNORE INTO days (day, {', '.join(USAGE_FIELDS)}) VALUES (?, "
                                   + ", ".join("?" for _ in USAGE_FIELDS) + ")", day, *(seeded[name] for name in USAGE_FIELDS))
                    self._sql.exec("DELETE FROM days WHERE day < ?", day)
                    self._sql.exec("DELETE FROM holds WHERE day < ?", day)
                    row = self._one("SELECT * FROM days WHERE day = ?", day)
        holds = [Reservation.from_json(r["reservation"])
                 for r in self._sql.exec("SELECT reservation FROM holds WHERE day = ?", day).toArray().to_py()]
        self._day, self._ledger, self._period = day, Ledger({name: row[name] for name in USAGE_FIELDS}, holds), None
        minute = self._one("SELECT start, tokens FROM minute_tokens ORDER BY start DESC LIMIT 1")
        if minute is not None:
            self._ledger.minute = (int(minute["start"]), float(minute["tokens"]))
        return self._ledger

    async def _in_period(self, key_id: str, day: str, first_day: str) -> Ledger:
        """Today's ledger with the spend of the budget period's earlier days (from `first_day`),
        read from D1 once a day per period."""
        ledger = await self._today(key_id, day)
        if first_day and self._period != (first_day, day):  # none: the ledger's spend before today stays as it was
            ledger.prior_cost = await stores_of(self.env).db.period_spend(key_id, first_day, day) if first_day < day else 0.0
            self._period = (first_day, day)
        return ledger

    def _window_of(self, window_start: int) -> "_Window":
        window = self._window
        if window is None or window.start != window_start:
            row = self._sql.exec("SELECT count FROM windows WHERE start = ?", window_start).toArray()
            ids = self._sql.exec("SELECT id FROM admitted WHERE start = ? LIMIT ?", window_start, MAX_KEPT_IDS + 1).toArray()
            window = self._window = _Window(window_start, int(row[0].count) if row.length else 0,
                                            {str(r.id) for r in ids} if ids.length <= MAX_KEPT_IDS else None)
        return window

    def _window_count(self, window_start: int) -> int:
        return self._window_of(window_start).count

    def _answered(self, admission_id: str, window_start: int) -> str | None:
        """The answer an admission was given if it was counted in this window before."""
        ids = self._window_of(window_start).ids
        if ids is not None and admission_id not in ids:
            return None
        seen = self._one("SELECT answer FROM admitted WHERE id = ? AND start = ?", admission_id, window_start)
        return seen["answer"] if seen else None

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0, admission: str = "") -> str:
        """Counts a request in its window, with up to `reserve` - 1 more slots for the caller's next
        requests, as far as `limit` allows (always the request itself: a refused request counts
        too): {"count": the window's count with them, "taken": how many, "used": today's usage,
        "committed": what quotas are checked against (usage and reservations held, before this
        request's)}. `admission` (JSON, optional): the request's id, so that the same request sent
        again is counted once, and its reservation ({"reservation", "limits", "ahead"}), held if
        the request is within the limit and its quotas are open: then "held": true and "ahead",
        the events held for slots taken ahead; and the usage it `carried` (inference/usage_batch.py:
        {"day", "delta", "settles", "period_start"}), applied first, the key's totals after it
        in "totals" (none when nothing was carried, or the admission was answered before)."""
        extra = parse_internal(admission, field="admission") if admission else {}
        admission_id = extra.get("id")
        if admission_id and (seen := self._answered(admission_id, window_start)):
            return seen
        totals = await self._carried(key_id, extra.get("carried"))
        current = self._window_count(window_start)
        quotas = Quotas.from_dict(extra["limits"]) if extra.get("limits") else None
        ledger = self._expired(await self._in_period(key_id, day, quotas.budget_period_start if quotas else ""))
        spent_before = ledger.committed()
        reservation = Reservation.from_dict(extra["reservation"]) if extra.get("reservation") else None
        ahead_events = int(extra.get("ahead", 0))
        if reservation is not None and not ledger.room_ahead(reservation, quotas, ahead_events):
            reserve, ahead_events = 1, 0  # slots ahead only with the events their batches need
        taken = slots_to_take(current, int(reserve), int(limit))
        window = self._window_of(window_start)  # as it is now: another count may have run while this one awaited
        self._sql.exec("INSERT INTO windows (start, count) VALUES (?, ?) ON CONFLICT (start) DO UPDATE "
                       "SET count = count + excluded.count", window_start, taken)
        count = window.count = window.count + taken
        if count == taken:  # a new window: the ones before it are done with
            self._sql.exec("DELETE FROM windows WHERE start < ?", window_start)
            self._sql.exec("DELETE FROM admitted WHERE start < ?", window_start)
        answer = {"count": count, "taken": taken, "used": ledger.used, "committed": spent_before, "refusal": None, "totals": totals}
        if reservation is not None and (limit <= 0 or count - taken < limit):
            refusal, ahead = self._reserve(ledger, day, reservation, quotas, ahead_events)
            answer |= {"held": refusal is None, "ahead": ahead, "refusal": refusal}
        elif quotas is not None:  # nothing to hold: the limits its kind is checked against
            answer["refusal"] = ledger.refusal(str(extra.get("kind", "read")), quotas, window_start)
        if admission_id:  # kept without its totals: the usage a resend carries is not applied (its isolate keeps it)
            self._sql.exec("INSERT OR REPLACE INTO admitted (id, start, answer) VALUES (?, ?, ?)", admission_id, window_start,
                           json.dumps({**answer, "totals": None}))
            window.remember(admission_id)
        return json.dumps(answer)

    def _expired(self, ledger: Ledger) -> Ledger:
        """The ledger without the reservations nobody settled in time."""
        for gone in ledger.expired(clock.now()):
            self._sql.exec("DELETE FROM holds WHERE id = ?", gone)
        return ledger

    def _reserve(self, ledger: Ledger, day: str, reservation: Reservation, limits: Quotas, ahead_events: int) -> tuple[str | None, int]:
        before = set(ledger.holds)
        refusal, ahead = ledger.reserve(reservation, limits, clock.now(), ahead_events)
        for hold_id in set(ledger.holds) - before:
            self._sql.exec("INSERT OR REPLACE INTO holds (id, day, reservation) VALUES (?, ?, ?)", hold_id, day,
                           ledger.holds[hold_id].to_json())
        return refusal, ahead

    async def hold(self, key_id: str, day: str, reservation: str, limits: str, carried: str = "") -> str:
        """Holds a reservation of a request admitted before (JSON, as in `count`) if its limits are
        open: {"held", "committed", "refusal": the limit found reached, if any, "totals"}, after the
        usage it `carried` (JSON, as in `count`), if any."""
        totals = await self._carried(key_id, parse_internal(carried, field="carried") if carried else None)
        quotas = Quotas.from_dict(parse_internal(limits, field="limits"))
        ledger = self._expired(await self._in_period(key_id, day, quotas.budget_period_start))
        spent_before = ledger.committed()
        refusal, _ = self._reserve(ledger, day, Reservation.from_json(reservation), quotas, 0)
        return json.dumps({"held": refusal is None, "committed": spent_before, "refusal": refusal, "totals": totals})

    async def peek(self, key_id: str, window_start: int, day: str) -> str:
        """The window's count and today's usage, counting nothing (a usage report)."""
        return json.dumps({"count": self._window_count(window_start), "used": (await self._today(key_id, day)).used})

    async def add(self, key_id: str, day: str, delta: str, settles: str = "", period_start: str = "") -> str:
        """Adds usage (JSON: any of the usage fields) to the day's, and frees the reservations
        `settles` names (a JSON list of ids: the requests that spent it). The key's totals after
        it, for its alerts: {"used": today's usage, "period_cost": the spend of the budget period
        from `period_start` (a day), today's included}."""
        changes = parse_internal(delta, field="usage delta")
        return json.dumps(await self._add(key_id, day, changes, parse_internal(settles, field="settles") if settles else [], period_start))

    async def _carried(self, key_id: str, carried: dict[str, Any] | None) -> dict[str, Any] | None:
        """Applies the usage an admission carries (inference/usage_batch.py: the key's calls since
        its isolate last wrote to here), before the admission is counted; the key's totals after it."""
        if not carried:
            return None
        return await self._add(key_id, str(carried["day"]), dict(carried.get("delta") or {}), list(carried.get("settles") or []),
                               str(carried.get("period_start", "")))

    async def _add(self, key_id: str, day: str, delta: dict[str, Any], settles: list[str], period_start: str) -> dict[str, Any]:
        ledger = await self._in_period(key_id, day, period_start)
        changes = {name: value for name, value in delta.items() if name in USAGE_FIELDS}
        if changes:
            self._sql.exec("UPDATE days SET " + ", ".join(f"{name} = {name} + ?" for name in changes) + " WHERE day = ?",
                           *changes.values(), day)
        if tokens := changes.get("prompt_tokens", 0) + changes.get("completion_tokens", 0):
            minute = minute_of(clock.now())
            self._sql.exec("INSERT INTO minute_tokens (start, tokens) VALUES (?, ?) ON CONFLICT (start) DO UPDATE "
                           "SET tokens = tokens + excluded.tokens", minute, tokens)
            if minute != self._tokens_minute:
                self._sql.exec("DELETE FROM minute_tokens WHERE start < ?", minute)
                self._tokens_minute = minute
            ledger.add_minute_tokens(minute, tokens)
        settled = [hold_id for hold_id in settles if hold_id in ledger.holds]
        for hold_id in settled:
            self._sql.exec("DELETE FROM holds WHERE id = ?", hold_id)
        ledger.settle(settled, changes)
        return {"used": ledger.used, "period_cost": ledger.prior_cost + ledger.used["cost_usd"]}
