"""D1 (the DB binding): every SQL statement of the inference worker and the mapping of its rows.
Statements that must agree run in one `batch` (one transaction, one round trip). Bound
parameters only; the statements are tested on SQLite with the project's migrations.

Tables: api_keys (keys), rate_windows (per-minute counts), usage_daily (daily quotas), ai_calls
(one row per model call), events and batches (indexed event batches), analytics_versions (bumped
with every write that changes a caller's metrics, so cached answers go stale)."""

import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from inference.store.analytics_sql import events_sql, metric_sql, shape
from inference.store.records import ModelCallRecord
from shared import clock
from shared.analytics import EventPage, EventQuery, MetricQuery, MetricSeries, encode_cursor
from shared.json_reader import parse_internal
from shared.reservations import RESERVATION_SECONDS, Quotas, Reservation

# --- keys and admission ---------------------------------------------------------------------
FIND_KEY_SQL = "SELECT id, hash, tier, revoked_at, policy_json, previous_hash, previous_valid_until FROM api_keys WHERE prefix = ?1"
INSERT_KEY_SQL = "INSERT INTO api_keys (id, prefix, hash, name, tier, created_at, policy_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
KEY_INFO_COLUMNS = "id, prefix, name, tier, created_at, revoked_at, policy_json, rotated_at, previous_valid_until"
LIST_KEYS_SQL = f"SELECT {KEY_INFO_COLUMNS} FROM api_keys ORDER BY created_at, id"
REVOKE_KEY_SQL = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL RETURNING id"
LIVE_KEY_PREFIX_SQL = "SELECT prefix FROM api_keys WHERE id = ?1 AND revoked_at IS NULL"
SET_KEY_POLICY_SQL = f"UPDATE api_keys SET policy_json = ?2 WHERE id = ?1 RETURNING {KEY_INFO_COLUMNS}"
# A new secret; the current one becomes the previous, valid until ?4 (a revoked key stays revoked).
ROTATE_KEY_SQL = f"""
UPDATE api_keys SET previous_hash = hash, previous_valid_until = ?4, hash = ?2, rotated_at = ?3
WHERE id = ?1 AND revoked_at IS NULL RETURNING {KEY_INFO_COLUMNS}
"""
# Spend on the days from ?2 up to (not including) ?3: the key's budget period before today.
PERIOD_SPEND_SQL = "SELECT COALESCE(SUM(cost_usd), 0) AS cost_usd FROM usage_daily WHERE key_id = ?1 AND day >= ?2 AND day < ?3"
# --- alerts (one per key, kind and period: a second insert writes nothing) ------------------
INSERT_ALERT_SQL = """
INSERT OR IGNORE INTO alerts (key_id, kind, period, limit_value, value, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
"""
MARK_ALERT_DELIVERED_SQL = "UPDATE alerts SET delivered_at = ?4 WHERE key_id = ?1 AND kind = ?2 AND period = ?3"
ALERT_COLUMNS = "key_id, kind, period, limit_value, value, created_at, delivered_at"
LIST_ALERTS_SQL = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE ?1 IS NULL OR key_id = ?1 ORDER BY created_at DESC, kind LIMIT ?2"
# A request is counted once however often it is sent (?3: its id), at the place it first took.
COUNT_REQUEST_SQL = """
INSERT INTO rate_windows (key_id, window_start, count)
SELECT ?1, ?2, 1 WHERE NOT EXISTS (SELECT 1 FROM admissions WHERE key_id = ?1 AND id = ?3)
ON CONFLICT (key_id, window_start) DO UPDATE SET count = count + 1
"""
RECORD_ADMISSION_SQL = """
INSERT OR IGNORE INTO admissions (key_id, id, window_start, position)
SELECT ?1, ?3, ?2, count FROM rate_windows WHERE key_id = ?1 AND window_start = ?2
"""
ADMISSION_POSITION_SQL = "SELECT position AS count FROM admissions WHERE key_id = ?1 AND id = ?2"
DROP_OLD_WINDOWS_SQL = "DELETE FROM rate_windows WHERE key_id = ?1 AND window_start < ?2"
DROP_OLD_ADMISSIONS_SQL = "DELETE FROM admissions WHERE key_id = ?1 AND window_start < ?2"
# Reservations of the day's quotas (shared/reservations.py): held only while the day's usage and
# what unexpired reservations hold is under the quotas of the reservation's kind (?4), atomically
# (one statement); an id held already stays as it was (the same request sent again).
COMMITTED_CTE = """
WITH used AS (SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd,
                     COALESCE(SUM(events), 0) AS events FROM usage_daily WHERE key_id = ?1 AND day = ?3),
     held AS (SELECT COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd, COALESCE(SUM(events), 0) AS events
              FROM reservations WHERE key_id = ?1 AND day = ?3 AND expires > ?8)
"""
DROP_EXPIRED_RESERVATIONS_SQL = "DELETE FROM reservations WHERE key_id = ?1 AND expires <= ?2"
HOLD_RESERVATION_SQL = COMMITTED_CTE + """
INSERT OR IGNORE INTO reservations (key_id, id, day, tokens, cost_usd, events, expires)
SELECT ?1, ?2, ?3, ?5, ?6, ?7, ?9 FROM used, held
WHERE CASE ?4 WHEN 'ai' THEN used.tokens + held.tokens < ?10 AND (?11 = 0 OR used.cost_usd + held.cost_usd < ?11)
              ELSE used.events + held.events < ?12 END
"""
# What the quotas were checked against, and whether the reservation is held.
RESERVATION_STATE_SQL = COMMITTED_CTE + """
SELECT used.tokens + held.tokens AS tokens, used.cost_usd + held.cost_usd AS cost_usd, used.events + held.events AS events,
       EXISTS (SELECT 1 FROM reservations WHERE key_id = ?1 AND id = ?2) AS held FROM used, held
"""
SETTLE_RESERVATION_SQL = "DELETE FROM reservations WHERE key_id = ?1 AND id = ?2"
WINDOW_COUNT_SQL = "SELECT count FROM rate_windows WHERE key_id = ?1 AND window_start = ?2"
USAGE_TODAY_SQL = """
SELECT requests, prompt_tokens, completion_tokens, cache_hits, events, cost_usd
FROM usage_daily WHERE key_id = ?1 AND day = ?2
"""
EMPTY_USAGE = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0, "events": 0, "cost_usd": 0.0}
# Spend per day, model and provider, from the day ?2 (unix ms) on.
SPEND_SQL = """
SELECT strftime('%Y-%m-%d', ts / 1000, 'unixepoch') AS day, model, provider, COUNT(*) AS calls,
       SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd
FROM ai_calls WHERE key_id = ?1 AND ts >= ?2
GROUP BY day, model, provider ORDER BY day DESC, cost_usd DESC, model
"""

# --- model calls ----------------------------------------------------------------------------
RECORD_USAGE_SQL = """
INSERT INTO usage_daily (key_id, day, requests, prompt_tokens, completion_tokens, cache_hits, cost_usd)
VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)
ON CONFLICT (key_id, day) DO UPDATE SET
  requests = requests + 1,
  prompt_tokens = prompt_tokens + excluded.prompt_tokens,
  completion_tokens = completion_tokens + excluded.completion_tokens,
  cache_hits = cache_hits + excluded.cache_hits,
  cost_usd = cost_usd + excluded.cost_usd
"""
RECORD_CALL_SQL = """
INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens,
                      provider, backend, cost_usd, used_tools, split, arm, gateway_log_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
"""
ADD_RPC_LATENCY_SQL = """INSERT INTO rpc_latency (minute_ms, key_id, method, le_ms, count) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (key_id, minute_ms, method, le_ms) DO UPDATE SET count = count + excluded.count"""
BUMP_ANALYTICS_VERSION_SQL = """
INSERT INTO analytics_versions (key_id, version) VALUES (?1, 1)
ON CONFLICT (key_id) DO UPDATE SET version = version + 1
"""
ANALYTICS_VERSION_SQL = "SELECT version FROM analytics_versions WHERE key_id = ?1"

# --- events ---------------------------------------------------------------------------------
# A batch's events go in as one bound JSON array (their NDJSON lines, as archived in R2), unpacked
# by SQLite's json_each: one statement however many events, where D1's 100 bound parameters a
# statement allowed ten events of ten columns. A chunk stays under D1's 2 MB for one value.
INSERT_EVENTS_SQL = """
INSERT OR IGNORE INTO events (key_id, id, type, name, component, session_id, user_id, ts, props_json, batch_id)
SELECT ?1, json_extract(value, '$.id'), json_extract(value, '$.type'), json_extract(value, '$.name'),
       json_extract(value, '$.component'), json_extract(value, '$.session_id'), json_extract(value, '$.user_id'),
       json_extract(value, '$.ts'), json_extract(value, '$.properties'), ?2
FROM json_each(?3)
"""
MAX_EVENTS_JSON_BYTES = 1_000_000
COUNT_BATCH_USAGE_SQL = """
INSERT INTO usage_daily (key_id, day, events)
SELECT ?1, ?2, COUNT(*) FROM events
WHERE key_id = ?1 AND batch_id = ?3
  AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?3 AND indexed_at IS NOT NULL)
ON CONFLICT (key_id, day) DO UPDATE SET events = events + excluded.events
"""
# The batch's new events added to the hourly rollups, once (before the batch is marked indexed).
ROLLUP_BATCH_SQL = """
INSERT INTO event_rollups (key_id, hour, type, component, count)
SELECT ?1, ts - ts % 3600000, type, COALESCE(component, ''), COUNT(*) FROM events
WHERE key_id = ?1 AND batch_id = ?2 AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?2 AND indexed_at IS NOT NULL)
GROUP BY ts - ts % 3600000, type, COALESCE(component, '')
ON CONFLICT (key_id, hour, type, component) DO UPDATE SET count = count + excluded.count
"""
# Raw events past the retention window, a bounded number a statement (D1 limits a query's time).
PURGE_EVENTS_SQL = "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE ts < ?1 LIMIT ?2)"
PURGE_BATCHES_SQL = "DELETE FROM batches WHERE received_at < ?1 AND indexed_at IS NOT NULL"
MARK_BATCH_INDEXED_SQL = """
INSERT INTO batches (id, key_id, r2_key, received_at, indexed_at, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (id) DO UPDATE SET indexed_at = COALESCE(batches.indexed_at, excluded.indexed_at), received = excluded.received
"""
# A caller's batch as indexed: when, how many events it held, and how many of them are its own.
BATCH_STATUS_SQL = """
SELECT indexed_at, received, (SELECT COUNT(*) FROM events WHERE key_id = ?1 AND batch_id = ?2) AS accepted
FROM batches WHERE id = ?2 AND key_id = ?1
"""
# --- documents ------------------------------------------------------------------------------
DOCUMENT_COLUMNS = "id, title, metadata_json, bytes, passages, embedded, status, error, r2_key, created_at"
INSERT_DOCUMENT_SQL = f"""
INSERT INTO documents (key_id, {DOCUMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 'ingesting', NULL, ?7, ?8)
"""
# An ingestion's progress, written only while the document is not being deleted: no change
# tells the ingestion that a delete came (the row is `deleting`, or gone).
DOCUMENT_PROGRESS_SQL = "UPDATE documents SET embedded = ?3, status = ?4, error = ?5 WHERE key_id = ?1 AND id = ?2 AND status != 'deleting'"
MARK_DOCUMENT_DELETING_SQL = "UPDATE documents SET status = 'deleting' WHERE key_id = ?1 AND id = ?2"
LIST_DOCUMENTS_SQL = f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE key_id = ?1 AND status != 'deleting' ORDER BY created_at, id"
GET_DOCUMENT_SQL = f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE key_id = ?1 AND id = ?2"
# Of the documents named (a JSON array), those a search may cite.
READY_DOCUMENTS_SQL = "SELECT id FROM documents WHERE key_id = ?1 AND status = 'ready' AND id IN (SELECT value FROM json_each(?2))"
DELETE_DOCUMENT_SQL = "DELETE FROM documents WHERE key_id = ?1 AND id = ?2"

SAVE_ENRICHMENT_SQL = "UPDATE events SET enrichment_json = ?3 WHERE key_id = ?1 AND id = ?2"


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def day_of(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def json_chunks(ndjson: str, max_bytes: int = MAX_EVENTS_JSON_BYTES) -> list[str]:
    """The NDJSON lines as JSON arrays of at most `max_bytes` each (a line longer than that alone)."""
    body = ndjson.rstrip("\n")
    if len(body) + 2 <= max_bytes and body.startswith("{") and body.count("\n") == body.count("\n{"):
        return ["[" + body.replace("\n", ",") + "]"]  # the usual batch (every line an object): one array, no loop
    chunks: list[str] = []
    lines: list[str] = []
    size = 0
    for line in ndjson.splitlines():
        if not line.strip():
            continue
        if lines and size + len(line) + 1 > max_bytes:
            chunks.append("[" + ",".join(lines) + "]")
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        chunks.append("[" + ",".join(lines) + "]")
    return chunks


def usage_row(call: ModelCallRecord, now: datetime | None = None) -> list[Any]:
    day = (now or datetime.fromtimestamp(clock.now(), UTC)).strftime("%Y-%m-%d")
    hit = 1 if call.outcome == "cache_hit" else 0
    return [call.caller.key_id, day, call.usage.prompt_tokens, call.usage.completion_tokens, hit, call.cost_usd]


def call_row(call: ModelCallRecord, now: datetime | None = None) -> list[Any]:
    ts = int((now.timestamp() if now else clock.now()) * 1000)
    return [call.caller.key_id, ts, call.model, call.kind, call.outcome, round(call.latency_ms, 2),
            round(call.ttft_ms, 2), call.usage.prompt_tokens, call.usage.completion_tokens, call.provider, call.backend,
            call.cost_usd, int(call.used_tools), call.split, call.arm, call.gateway_log_id]


def _document(row: dict[str, Any]) -> dict[str, Any]:
    metadata = row.pop("metadata_json", None)
    return {**row, "metadata": parse_internal(metadata, field="metadata") if metadata else None}


def _listed_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "type": row["type"], "name": row["name"], "component": row["component"],
        "session_id": row["session_id"], "user_id": row["user_id"], "ts": row["ts"],
        "properties": parse_internal(row["props_json"], field="properties") if row["props_json"] else None,
        "enrichment": parse_internal(row["enrichment_json"], field="enrichment") if row["enrichment_json"] else None,
        "cursor": encode_cursor(row["ts"], row["id"]),
    }


class Database:
    def __init__(self, binding: Any) -> None:
        self._d1 = binding

    def _statement(self, sql: str, *params: Any) -> Any:
        return self._d1.prepare(sql).bind(*params)

    async def ping(self) -> None:
        row = await self._d1.prepare("SELECT 1 AS ok").first()
        if row is None or row["ok"] != 1:
            raise RuntimeError(f"unexpected answer to SELECT 1: {row!r}")

    # --- keys -------------------------------------------------------------------------------
    async def find_key(self, prefix: str) -> dict[str, Any] | None:
        """The key row (id, hash, tier, revoked_at) for a prefix, or None."""
        row = await self._statement(FIND_KEY_SQL, prefix).first()
        return dict(row) if row is not None else None

    async def insert_key(self, key_id: str, prefix: str, digest: str, name: str, tier: str, created_at: str,
                         policy_json: str | None = None) -> None:
        await self._statement(INSERT_KEY_SQL, key_id, prefix, digest, name, tier, created_at, policy_json).run()

    async def list_keys(self) -> list[dict[str, Any]]:
        return [dict(row) for row in (await self._d1.prepare(LIST_KEYS_SQL).all()).results]

    async def revoke_key(self, key_id: str, revoked_at: str) -> bool:
        """True if the key was live and is now revoked."""
        return bool((await self._statement(REVOKE_KEY_SQL, key_id, revoked_at).all()).results)

    async def live_key_prefix(self, key_id: str) -> str | None:
        row = await self._statement(LIVE_KEY_PREFIX_SQL, key_id).first()
        return row["prefix"] if row else None

    async def set_key_policy(self, key_id: str, policy_json: str | None) -> dict[str, Any] | None:
        """The key's row with its new policy, or None if there is no such key."""
        rows = (await self._statement(SET_KEY_POLICY_SQL, key_id, policy_json).all()).results
        return dict(rows[0]) if rows else None

    async def rotate_key(self, key_id: str, digest: str, rotated_at: str, previous_valid_until: float) -> dict[str, Any] | None:
        """The key's row with its new secret's hash, or None if there is no live key of that id."""
        rows = (await self._statement(ROTATE_KEY_SQL, key_id, digest, rotated_at, previous_valid_until).all()).results
        return dict(rows[0]) if rows else None

    async def period_spend(self, key_id: str, first_day: str, today: str) -> float:
        """The key's spend on the days from `first_day` to yesterday."""
        row = await self._statement(PERIOD_SPEND_SQL, key_id, first_day, today).first()
        return float(row["cost_usd"]) if row else 0.0

    # --- alerts -----------------------------------------------------------------------------
    async def insert_alert(self, key_id: str, kind: str, period: str, limit_value: float, value: float, created_at: str) -> bool:
        """True if this is the key's first alert of `kind` in `period` (written now)."""
        result = await self._statement(INSERT_ALERT_SQL, key_id, kind, period, limit_value, value, created_at).run()
        return int(result.meta.changes) > 0

    async def mark_alert_delivered(self, key_id: str, kind: str, period: str, delivered_at: str) -> None:
        await self._statement(MARK_ALERT_DELIVERED_SQL, key_id, kind, period, delivered_at).run()

    async def list_alerts(self, key_id: str | None, first: int) -> list[dict[str, Any]]:
        return [dict(row) for row in (await self._statement(LIST_ALERTS_SQL, key_id, first).all()).results]

    # --- admission --------------------------------------------------------------------------
    async def count_request(self, key_id: str, window_start: int, day: str, request_id: str) -> tuple[int, dict[str, Any]]:
        """Counts a request in its window, once per `request_id`; (its place in the window, the key's usage today)."""
        _, _, position, usage_rows = await self._d1.batch([
            self._statement(COUNT_REQUEST_SQL, key_id, window_start, request_id),
            self._statement(RECORD_ADMISSION_SQL, key_id, window_start, request_id),
            self._statement(ADMISSION_POSITION_SQL, key_id, request_id),
            self._statement(USAGE_TODAY_SQL, key_id, day),
        ])
        return position.results[0]["count"], dict(usage_rows.results[0]) if usage_rows.results else dict(EMPTY_USAGE)

    def drop_old_windows(self, key_id: str, window_start: int) -> Awaitable[Any]:
        """The delete of the key's older windows, to be awaited off the hot path (ctx.waitUntil)."""
        return self._d1.batch([self._statement(DROP_OLD_WINDOWS_SQL, key_id, window_start),
                               self._statement(DROP_OLD_ADMISSIONS_SQL, key_id, window_start)])

    async def hold(self, key_id: str, day: str, reservation: Reservation, quotas: Quotas, now: float) -> tuple[bool, dict[str, float]]:
        """Holds `reservation` if its quotas are open (one transaction); (whether it is held, what
        the quotas were checked against with it)."""
        r = reservation
        params = (key_id, r.id, day, r.kind, r.tokens, r.cost_usd, r.events, now, now + RESERVATION_SECONDS,
                  quotas.tokens_per_day, quotas.daily_budget_usd, quotas.events_per_day)
        *_, state = await self._d1.batch([
            self._statement(DROP_EXPIRED_RESERVATIONS_SQL, key_id, now),
            self._statement(HOLD_RESERVATION_SQL, *params),
            self._statement(RESERVATION_STATE_SQL, *params[:8]),
        ])
        row = state.results[0]
        return bool(row["held"]), {name: row[name] for name in ("tokens", "cost_usd", "events")}

    async def settle(self, key_id: str, reservation_id: str) -> None:
        await self._statement(SETTLE_RESERVATION_SQL, key_id, reservation_id).run()

    async def usage_today(self, key_id: str, day: str) -> dict[str, Any]:
        row = await self._statement(USAGE_TODAY_SQL, key_id, day).first()
        return dict(row) if row else dict(EMPTY_USAGE)

    async def usage_and_window(self, key_id: str, day: str, window_start: int,
                               spend_since_ms: int) -> tuple[dict[str, Any], int, list[dict[str, Any]]]:
        """The key's usage today, its count in the window and its spend per day and model since
        `spend_since_ms`, without counting anything."""
        usage_rows, window_rows, spend_rows = await self._d1.batch([
            self._statement(USAGE_TODAY_SQL, key_id, day),
            self._statement(WINDOW_COUNT_SQL, key_id, window_start),
            self._statement(SPEND_SQL, key_id, spend_since_ms),
        ])
        used = dict(usage_rows.results[0]) if usage_rows.results else dict(EMPTY_USAGE)
        return used, window_rows.results[0]["count"] if window_rows.results else 0, list(spend_rows.results)

    # --- model calls ------------------------------------------------------------------------
    def _call_statements(self, call: ModelCallRecord, at: datetime | None = None) -> list[Any]:
        """A call's daily counters and its row, at `at` (now when not given)."""
        return [self._statement(RECORD_USAGE_SQL, *usage_row(call, at)), self._statement(RECORD_CALL_SQL, *call_row(call, at))]

    async def record_call(self, call: ModelCallRecord, settles: str | None = None) -> None:
        """The key's daily counters, the call's row and a new analytics version, in one transaction,
        which frees the reservation `settles` names (where D1 holds them: no key counter is bound)."""
        await self._d1.batch([
            *self._call_statements(call),
            self._statement(BUMP_ANALYTICS_VERSION_SQL, call.caller.key_id),
            *([self._statement(SETTLE_RESERVATION_SQL, call.caller.key_id, settles)] if settles else []),
        ])

    async def record_calls(self, calls: list[tuple[ModelCallRecord, datetime]]) -> None:
        """Calls recorded at the times given (their counters' updates went to the key's counter:
        inference/usage_batch.py): their daily counters and rows, and a new analytics version
        for each caller, in one transaction."""
        keys = sorted({call.caller.key_id for call, _ in calls})
        await self._d1.batch([*(statement for call, at in calls for statement in self._call_statements(call, at)),
                              *(self._statement(BUMP_ANALYTICS_VERSION_SQL, key_id) for key_id in keys)])

    async def add_rpc_latency(self, rows: list[tuple[int, str, str, int, int]]) -> None:
        """Adds an isolate's latency counts (shared/rpc_latency.py), and a new analytics version
        for each caller whose counts changed, in one transaction."""
        keys = sorted({row[1] for row in rows})
        await self._d1.batch([*(self._statement(ADD_RPC_LATENCY_SQL, *row) for row in rows),
                              *(self._statement(BUMP_ANALYTICS_VERSION_SQL, key_id) for key_id in keys)])

    # --- events -----------------------------------------------------------------------------
    def _index_statements(self, key_id: str, batch_id: str, r2_key: str, received_at: int, ndjson: str) -> tuple[list[Any], int]:
        """The statements that index one batch, and how many of them insert its events."""
        chunks = json_chunks(ndjson)
        statements = [self._statement(INSERT_EVENTS_SQL, key_id, batch_id, chunk) for chunk in chunks]
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        received = ndjson.count("\n")
        return statements + [
            self._statement(COUNT_BATCH_USAGE_SQL, key_id, _iso_ms(received_at)[:10], batch_id),
            self._statement(ROLLUP_BATCH_SQL, key_id, batch_id),
            self._statement(MARK_BATCH_INDEXED_SQL, batch_id, key_id, r2_key, _iso_ms(received_at), now, received),
            self._statement(BUMP_ANALYTICS_VERSION_SQL, key_id),
            self._statement(SETTLE_RESERVATION_SQL, key_id, batch_id),  # its events counted now (where D1 holds reservations)
        ], len(chunks)

    async def index_batch(self, key_id: str, batch_id: str, r2_key: str, received_at: int, ndjson: str) -> int:
        """One transaction: the events (`ndjson`, one Event a line; duplicates ignored), the key's
        daily count (once per batch, however often it is indexed), the batch as indexed, and a new
        analytics version. The number of events that were new."""
        [accepted] = await self.index_batches([(key_id, batch_id, r2_key, received_at, ndjson)])
        return accepted

    async def index_batches(self, batches: list[tuple[str, str, str, int, str]]) -> list[int]:
        """Several batches (key id, batch id, R2 key, received at, NDJSON) in one transaction: one
        round trip for all; each one's count of new events."""
        statements: list[Any] = []
        spans = []
        for key_id, batch_id, r2_key, received_at, ndjson in batches:
            own, inserts = self._index_statements(key_id, batch_id, r2_key, received_at, ndjson)
            spans.append((len(statements), inserts))
            statements += own
        results = list(await self._d1.batch(statements))
        return [sum(int(result.meta.changes) for result in results[start:start + count]) for start, count in spans]

    async def purge_events(self, before_ms: int, limit: int = 10_000) -> int:
        """Deletes up to `limit` raw events older than `before_ms` (and indexed batches' rows as
        old); the number of events deleted. Rollups keep their counts."""
        deleted, _ = await self._d1.batch([self._statement(PURGE_EVENTS_SQL, before_ms, limit),
                                           self._statement(PURGE_BATCHES_SQL, _iso_ms(before_ms))])
        return int(deleted.meta.changes)

    async def batch_status(self, key_id: str, batch_id: str) -> dict[str, Any] | None:
        return await self._statement(BATCH_STATUS_SQL, key_id, batch_id).first()

    async def save_enrichment(self, key_id: str, event_id: str, enrichment: dict[str, Any]) -> None:
        await self._statement(SAVE_ENRICHMENT_SQL, key_id, event_id, json.dumps(enrichment)).run()

    # --- documents --------------------------------------------------------------------------
    async def insert_document(self, key_id: str, document_id: str, title: str, metadata: dict[str, Any] | None, size: int,
                              passages: int, r2_key: str, created_at: str) -> None:
        await self._statement(INSERT_DOCUMENT_SQL, key_id, document_id, title, json.dumps(metadata) if metadata is not None else None,
                              size, passages, r2_key, created_at).run()

    async def document_progress(self, key_id: str, document_id: str, embedded: int, status: str, error: str | None = None) -> bool:
        """Records an ingestion's progress; False if the document is being deleted, or gone."""
        result = await self._statement(DOCUMENT_PROGRESS_SQL, key_id, document_id, embedded, status, error).run()
        return int(result.meta.changes) > 0

    async def mark_document_deleting(self, key_id: str, document_id: str) -> None:
        await self._statement(MARK_DOCUMENT_DELETING_SQL, key_id, document_id).run()

    async def list_documents(self, key_id: str) -> list[dict[str, Any]]:
        return [_document(row) for row in (await self._statement(LIST_DOCUMENTS_SQL, key_id).all()).results]

    async def get_document(self, key_id: str, document_id: str) -> dict[str, Any] | None:
        row = await self._statement(GET_DOCUMENT_SQL, key_id, document_id).first()
        return _document(row) if row else None

    async def ready_documents(self, key_id: str, document_ids: list[str]) -> set[str]:
        rows = (await self._statement(READY_DOCUMENTS_SQL, key_id, json.dumps(document_ids)).all()).results
        return {row["id"] for row in rows}

    async def delete_document(self, key_id: str, document_id: str) -> None:
        await self._statement(DELETE_DOCUMENT_SQL, key_id, document_id).run()

    # --- analytics --------------------------------------------------------------------------
    async def analytics_version(self, key_id: str) -> int:
        row = await self._statement(ANALYTICS_VERSION_SQL, key_id).first()
        return row["version"] if row else 0

    async def metric_series(self, query: MetricQuery) -> MetricSeries:
        (points_sql, points_params), (totals_sql, totals_params) = metric_sql(query)
        points, totals = await self._d1.batch([
            self._statement(points_sql, *points_params),
            self._statement(totals_sql, *totals_params),
        ])
        return shape(query, [dict(r) for r in points.results], [dict(r) for r in totals.results])

    async def event_page(self, query: EventQuery) -> EventPage:
        sql, params = events_sql(query)
        rows = [dict(r) for r in (await self._statement(sql, *params).all()).results]
        events = [_listed_event(row) for row in rows[: query.first]]
        return EventPage.model_validate({
            "events": events, "has_next_page": len(rows) > query.first, "end_cursor": events[-1]["cursor"] if events else None,
        })
