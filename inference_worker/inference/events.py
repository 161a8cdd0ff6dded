"""Event ingestion that loses nothing: a batch is durable in R2 before anyone is told it was
received, indexed into D1 next, and replayed from R2 if indexing failed.

R2 holds two objects per batch: the events (`events/<day>/<batch id>.ndjson`) and a marker
(`unindexed/<batch id>`) that exists until the batch is in D1. The scheduled handler replays
whatever still has a marker. Indexing is idempotent (events are unique per key and id; a
batch's usage is counted once), so a replay of an indexed batch changes nothing."""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from inference import enrichment
from inference.settings import Settings
from inference.usage import BUMP_ANALYTICS_VERSION_SQL, write_point
from shared.contract import BatchResult, Caller, EventBatch, ServiceFailure
from shared.errors import ErrorCode
from shared.events import Event, from_ndjson, to_ndjson

MARKER_PREFIX = "unindexed/"
# Analytics Engine takes 25 writes an invocation, and enrichment's model calls (one point
# each) follow the batch's points in the same invocation.
AE_WRITES_PER_INVOCATION = 25
AE_POINTS_PER_BATCH = AE_WRITES_PER_INVOCATION - Settings.events_enrichment_max_per_batch

EVENT_COLUMNS = ("key_id", "id", "type", "name", "component", "session_id", "user_id", "ts", "props_json", "batch_id")
# D1 binds at most 100 parameters a statement: ten events of ten columns.
EVENTS_PER_STATEMENT = 100 // len(EVENT_COLUMNS)
COUNT_BATCH_USAGE_SQL = """
INSERT INTO usage_daily (key_id, day, events)
SELECT ?1, ?2, COUNT(*) FROM events
WHERE key_id = ?1 AND batch_id = ?3
  AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?3 AND indexed_at IS NOT NULL)
ON CONFLICT (key_id, day) DO UPDATE SET events = events + excluded.events
"""
MARK_BATCH_INDEXED_SQL = """
INSERT INTO batches (id, key_id, r2_key, received_at, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (id) DO UPDATE SET indexed_at = COALESCE(batches.indexed_at, excluded.indexed_at)
"""


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def archive_key(batch_id: str, received_at: int) -> str:
    return f"events/{_iso(received_at)[:10]}/{batch_id}.ndjson"


def insert_events_sql(rows: int) -> str:
    width = len(EVENT_COLUMNS)
    values = ", ".join(
        "(" + ", ".join(f"?{row * width + column + 1}" for column in range(width)) + ")" for row in range(rows)
    )
    return f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {values}"


def insert_statements(db: Any, key_id: str, batch_id: str, events: list[Event]) -> list[Any]:
    statements = []
    for start in range(0, len(events), EVENTS_PER_STATEMENT):
        chunk = events[start:start + EVENTS_PER_STATEMENT]
        params = [
            value
            for e in chunk
            for value in (key_id, e.id, e.type, e.name, e.component, e.session_id, e.user_id, e.ts,
                          json.dumps(e.properties, separators=(",", ":")) if e.properties is not None else None, batch_id)
        ]
        statements.append(db.prepare(insert_events_sql(len(chunk))).bind(*params))
    return statements


def index_statements(db: Any, key_id: str, batch_id: str, r2_key: str, received_at: int, events: list[Event]) -> list[Any]:
    """One transaction: the events (ten a statement), the key's daily count (once per
    batch), the batch as indexed, and a new analytics version (cached answers go stale)."""
    statements = insert_statements(db, key_id, batch_id, events)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    statements += [
        db.prepare(COUNT_BATCH_USAGE_SQL).bind(key_id, _iso(received_at)[:10], batch_id),
        db.prepare(MARK_BATCH_INDEXED_SQL).bind(batch_id, key_id, r2_key, _iso(received_at), now),
        db.prepare(BUMP_ANALYTICS_VERSION_SQL).bind(key_id),
    ]
    return statements


async def index_batch(env: Any, key_id: str, batch_id: str, r2_key: str, received_at: int, events: list[Event]) -> int:
    """Indexes the batch into D1 and drops its marker; the number of events that were new."""
    statements = index_statements(env.DB, key_id, batch_id, r2_key, received_at, events)
    results = await env.DB.batch(statements)
    inserts = -(-len(events) // EVENTS_PER_STATEMENT)
    accepted = sum(int(result.meta.changes) for result in list(results)[:inserts])
    await env.ARCHIVE.delete(MARKER_PREFIX + batch_id)
    return accepted


def _data_points(key_id: str, events: list[Event]) -> list[dict[str, Any]]:
    """One point per (type, component), its count as a double: AE's per-invocation write limit
    rules out a point per event. The rarest groups share the last point."""
    groups = Counter((e.type, e.component or "") for e in events)
    ranked = groups.most_common()
    kept, rest = ranked[: AE_POINTS_PER_BATCH - 1], ranked[AE_POINTS_PER_BATCH - 1:]
    if rest:
        kept.append((("(other)", ""), sum(count for _, count in rest)))
    return [{"indexes": [key_id], "blobs": ["event", type_, component], "doubles": [count]} for (type_, component), count in kept]


async def process_events(env: Any, ctx: Any, batch: EventBatch) -> dict[str, Any]:
    key_id = batch.caller.key_id
    r2_key = archive_key(batch.batch_id, batch.received_at)
    marker = {"key_id": key_id, "tier": batch.caller.tier, "r2_key": r2_key, "received_at": str(batch.received_at)}
    try:
        # The events first, then their marker: a marker never points at events that are not there.
        await env.ARCHIVE.put(r2_key, to_ndjson(batch.events),
                              {"httpMetadata": {"contentType": "application/x-ndjson"}, "customMetadata": {"key_id": key_id}})
        await env.ARCHIVE.put(MARKER_PREFIX + batch.batch_id, "", {"customMetadata": marker})
    except Exception as exc:
        print(f"batch {batch.batch_id}: R2 write failed, nothing accepted: {exc}")
        failure = ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE, message="The events could not be stored; send them again",
                                 retry_after=5)
        return {"failure": failure.model_dump(mode="json")}

    result = BatchResult(batch_id=batch.batch_id, received=len(batch.events), accepted=None, duplicates=None, indexed=False)
    try:
        accepted = await index_batch(env, key_id, batch.batch_id, r2_key, batch.received_at, batch.events)
        result = result.model_copy(update={"accepted": accepted, "duplicates": len(batch.events) - accepted, "indexed": True})
        if enrichment.enabled(env) and enrichment.candidates(env, batch.events):
            ctx.waitUntil(asyncio.ensure_future(enrichment.enrich(env, batch.caller, batch.events)))
    except Exception as exc:  # durable in R2 already: the scheduled replay indexes it
        print(f"batch {batch.batch_id}: D1 indexing failed, left for replay: {exc}")
    for point in _data_points(key_id, batch.events):
        write_point(env, point)
    return result.model_dump(mode="json")


async def unindexed_markers(env: Any, page_size: int = 100) -> AsyncIterator[Any]:
    """Every marker in R2, page by page (R2 lists at most 1,000 keys a call)."""
    cursor = None
    while True:
        options: dict[str, Any] = {"prefix": MARKER_PREFIX, "limit": page_size, "include": ["customMetadata"]}
        if cursor:
            options["cursor"] = cursor
        listing = await env.ARCHIVE.list(options)
        for marker in listing.objects:
            yield marker
        if not listing.truncated:
            return
        cursor = listing.cursor


async def replay_unindexed(env: Any, max_batches: int = 500) -> dict[str, int]:
    """Indexes the batches whose marker is still in R2 (their D1 indexing failed), and gives
    their events the enrichment they missed at ingestion. Goes through every marker, so a batch
    that keeps failing holds none of the others back; at most `max_batches` are tried a run."""
    replayed = failed = orphans = remaining = 0
    async for marker in unindexed_markers(env):
        if replayed + failed + orphans >= max_batches:
            remaining += 1
            continue
        batch_id = marker.key[len(MARKER_PREFIX):]
        # The listed objects are R2Object instances, not plain data: read fields as attributes.
        meta = marker.customMetadata
        try:
            body = await env.ARCHIVE.get(meta.r2_key)
            if body is None:
                # Its events were never stored (the client was told to send them again): nothing to index.
                await env.ARCHIVE.delete(marker.key)
                orphans += 1
                print(f"replay: batch {batch_id} has a marker but no events; marker removed")
                continue
            events = from_ndjson(await body.text())
            accepted = await index_batch(env, meta.key_id, batch_id, meta.r2_key, int(meta.received_at), events)
            replayed += 1
        except Exception as exc:
            failed += 1
            print(f"replay of batch {batch_id} failed, kept for the next run: {exc}")
            continue
        # Only a batch that was new to D1: one already indexed (its marker outlived it) had its labels.
        if accepted and enrichment.enabled(env):
            caller = Caller(key_id=meta.key_id, tier=getattr(meta, "tier", None) or "free")
            await enrichment.enrich(env, caller, events)
    return {"replayed": replayed, "failed": failed, "orphans_removed": orphans, "remaining": remaining}
