"""Event ingestion that loses nothing: a batch is durable before anyone is told it was received
(in a queue message, or in R2), then archived in R2 and indexed into D1, off the request's path
when a queue is bound.

R2 holds each batch's events (`events/<day>/<batch id>.ndjson`). With a queue (EVENT_QUEUE), a
batch that fits in a message is sent with its events (store/queue.py); a bigger one is stored in
R2 first and only its marker is sent. The client is answered 202 once the message is sent, and the
consumer (`consume`, this worker's queue handler) archives the events that came in messages into
R2 and indexes batches into D1 several at a time, retrying a failure with backoff; what fails
`max_retries` times goes to the dead-letter queue, whose consumer stores its events in R2 (if
they came in the message) and its marker (`unindexed/<batch id>`, store/archive.py) for the
scheduled replay to drain. Without a queue (or if sending to it fails), the batch is stored in R2
and indexed in the request, and if that fails its marker is written before the client is
answered. Indexing is idempotent (events are unique per key and id; a batch's usage is counted
once), so indexing a batch twice changes nothing: a message delivered twice, or a replay of a
batch the queue indexed, is harmless. Analytics Engine counts a batch where it is indexed, if
that added events (`data_points`: one point per key, type and component for all the batches
indexed together)."""

import asyncio
from collections import Counter
from typing import Any

from inference import access, enrichment
from inference.log import log
from inference.settings import Settings, settings_of
from inference.store import Stores, stores_of
from inference.store.d1 import day_of
from inference.store.telemetry import WRITES_PER_INVOCATION, event_point
from shared import clock
from shared.batches import Groups, Marker, batch_of, message_of
from shared.contract import BatchRef, BatchResult, BatchStatus, Caller, EventBatch, ServiceFailed, ServiceFailure, UnindexedBatch
from shared.errors import ErrorCode
from shared.events import from_ndjson, group_counts
from shared.reservations import Reservation

MAX_RETRY_DELAY_SECONDS = 300
# Enrichment's model calls (one point each) follow the events' points in the same invocation.
AE_POINTS_PER_INVOCATION = WRITES_PER_INVOCATION - Settings.events_enrichment_max_per_batch


async def index_batch(stores: Stores, marker: Marker, ndjson: str) -> int:
    """Indexes the batch (its NDJSON, as archived) into D1; the number of events that were new."""
    accepted = await stores.db.index_batch(marker.key_id, marker.batch_id, marker.r2_key, marker.received_at, ndjson)
    await count_events(stores, [(marker, accepted)])
    return accepted


async def count_events(stores: Stores, indexed: list[tuple[Marker, int]]) -> None:
    """The keys' counters learn of events newly indexed (what a daily event quota is checked
    against), and free the batches' reservations (made as each was admitted: its events are
    counted now, less those indexed before): one call per key and day, however many of its
    batches were indexed together."""
    if stores.counters is None:
        return
    totals: Counter[tuple[str, str]] = Counter()
    batches: dict[tuple[str, str], list[str]] = {}
    for marker, accepted in indexed:
        group = (marker.key_id, day_of(marker.received_at / 1000))
        totals[group] += accepted
        batches.setdefault(group, []).append(marker.batch_id)
    for (key_id, day), settled in batches.items():
        accepted = totals[(key_id, day)]
        try:
            await stores.counters.add(key_id, day, settles=settled, **({"events": accepted} if accepted else {}))
        except Exception as exc:  # D1 has them: the counter is short until tomorrow's seed
            log(f"key {key_id}: {accepted} events indexed on {day} were not added to its counter: {exc}")


def _not_stored() -> ServiceFailed:
    return ServiceFailed(ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE, retry_after=5,
                                        message="The events could not be stored; send them again"))


def data_points(indexed: list[tuple[str, Groups]], budget: int = AE_POINTS_PER_INVOCATION) -> list[dict[str, Any]]:
    """Analytics Engine points for batches indexed together ((key id, groups) each): one per key,
    type and component, its count as a double (AE's per-invocation write limit rules out a point
    per event, and one per batch for a queue consumer's ten). Each key gets an equal share of
    `budget`; its rarest groups share its last point."""
    per_key: dict[str, Counter[tuple[str, str]]] = {}
    for key_id, groups in indexed:
        counts = per_key.setdefault(key_id, Counter())
        for type_, component, count in groups:
            counts[(type_, component)] += count
    if len(per_key) > budget:
        log(f"analytics: events of {len(per_key) - budget} keys not counted (more keys than {budget} points)")
    share = max(1, budget // max(1, len(per_key)))
    points = []
    for key_id, counts in list(per_key.items())[:budget]:
        ranked = counts.most_common()
        if len(ranked) > share:
            ranked = [*ranked[: share - 1], (("(other)", ""), sum(count for _, count in ranked[share - 1:]))]
        points += [event_point(key_id, type_, component, count) for (type_, component), count in ranked]
    return points


async def process_events(env: Any, ctx: Any, batch: EventBatch) -> BatchResult:
    # Its events reserved of the day's quota under the batch's id (settled once it is indexed).
    window = await access.admitted(env, ctx, batch.admission, batch.caller, Reservation(batch.batch_id, "events", events=batch.count))
    stores = stores_of(env)
    key_id = batch.caller.key_id
    marker = Marker.received(batch.batch_id, key_id, batch.caller.tier, batch.received_at)
    ndjson = batch.ndjson
    result = BatchResult(batch_id=batch.batch_id, received=batch.count, accepted=None, duplicates=None, indexed=False,
                         window=window)
    queue = stores.queue
    with_events = message_of(marker, batch.groups, ndjson) if queue is not None else None  # None: too big for one
    if with_events is not None:
        if await _enqueued(stores, marker, with_events):
            return result.model_copy(update={"queued": True})  # durable in the queue; the consumer archives it
        queue = None  # the queue refused it: stored and indexed now, as without a queue
    try:
        await stores.archive.store_events(marker, ndjson)
    except Exception as exc:
        log(f"batch {batch.batch_id}: R2 write failed, nothing accepted: {exc}")
        raise _not_stored() from None
    if queue is not None and await _enqueued(stores, marker, message_of(marker, batch.groups)):
        return result.model_copy(update={"queued": True})
    result = await _index_now(env, ctx, stores, marker, batch, ndjson, result)
    if result.accepted:  # counted once indexed (if D1 failed, by the replay that indexes it)
        stores.telemetry.write_all(data_points([(key_id, batch.groups)]))
    return result


async def _enqueued(stores: Stores, marker: Marker, message: str) -> bool:
    """Hands the batch to the queue consumer, which counts it in Analytics Engine as it indexes
    it; False if the queue refused it (the batch is then stored in R2, if it was not, and indexed
    and counted now, as without a queue)."""
    try:
        await stores.queue.send(message)
        return True
    except Exception as exc:
        log(f"batch {marker.batch_id}: queue send failed, indexing it now: {exc}")
        return False


async def _index_now(env: Any, ctx: Any, stores: Stores, marker: Marker, batch: EventBatch, ndjson: str,
                     result: BatchResult) -> BatchResult:
    try:
        accepted = await index_batch(stores, marker, ndjson)
        result = result.model_copy(update={"accepted": accepted, "duplicates": batch.count - accepted, "indexed": True})
        if enrichment.enabled(env) and enrichment.candidates(env, events := from_ndjson(ndjson)):
            ctx.waitUntil(asyncio.ensure_future(enrichment.enrich(env, batch.caller, events)))
    except Exception as exc:  # stored in R2 already: marked, the scheduled replay indexes it
        try:
            await stores.archive.mark_unindexed(marker, f"D1 indexing failed: {exc}")
        except Exception as marking:
            log(f"batch {batch.batch_id}: D1 indexing failed ({exc}) and so did its marker: {marking}")
            raise _not_stored() from None
        log(f"batch {batch.batch_id}: D1 indexing failed, left for replay: {exc}")
    return result


def retry_delay(attempts: int, base_seconds: float) -> int:
    """Exponential backoff for a message that failed `attempts` times: base, 2 x base, ... up to 5 minutes."""
    return int(min(MAX_RETRY_DELAY_SECONDS, base_seconds * 2 ** max(0, attempts - 1)))


async def consume(env: Any, messages: list[Any]) -> None:
    """The queue consumer: archives in R2 the batches whose events came in their message, then
    indexes every message's batch in one D1 transaction; if that fails, each on its own, so that
    one bad batch holds no other back. A batch that fails is retried with backoff (the queue's
    max_retries, then the dead-letter queue)."""
    stores = stores_of(env)
    base = settings_of(env).event_retry_base_seconds
    loaded, carried = [], []  # every batch read; the ones whose events came in their message
    groups: dict[str, Groups] = {}  # per batch id
    for message in messages:
        marker, ndjson, groups_of_batch = batch_of(message.body)
        groups[marker.batch_id] = groups_of_batch
        try:
            if ndjson is not None:
                carried.append((message, marker, ndjson))
            elif (ndjson := await stores.archive.read_batch(marker.r2_key)) is not None:
                loaded.append((message, marker, ndjson))
            else:
                raise LookupError(f"no events at {marker.r2_key}")
        except Exception as exc:
            _retry(message, marker, exc, base)
    # Every indexed batch is in R2 (the archive outlives D1's retention): the ones that came in
    # their message are written there first, all at once.
    stored = await asyncio.gather(*(stores.archive.store_events(marker, ndjson) for _, marker, ndjson in carried),
                                  return_exceptions=True)
    for entry, outcome in zip(carried, stored, strict=True):
        if isinstance(outcome, BaseException):
            _retry(entry[0], entry[1], outcome, base)
        else:
            loaded.append(entry)
    if not loaded:
        return
    try:
        accepted = await stores.db.index_batches([(m.key_id, m.batch_id, m.r2_key, m.received_at, nd) for _, m, nd in loaded])
        indexed = list(zip(loaded, accepted, strict=True))
        await count_events(stores, [(marker, new) for (_, marker, _), new in indexed])
    except Exception as exc:
        log(f"queue: indexing {len(loaded)} batches together failed ({exc}); one by one")
        indexed = []
        for message, marker, ndjson in loaded:
            try:
                indexed.append(((message, marker, ndjson), await index_batch(stores, marker, ndjson)))
            except Exception as alone:
                _retry(message, marker, alone, base)
    # Counted in Analytics Engine once indexed, all batches of the run together; a batch all of whose
    # events were indexed before (a message delivered twice, a client's retry) counts nothing again.
    stores.telemetry.write_all(data_points([(marker.key_id, groups[marker.batch_id]) for (_, marker, _), new in indexed if new]))
    for (message, marker, ndjson), new in indexed:
        message.ack()
        if new and enrichment.enabled(env):
            await enrichment.enrich(env, Caller(key_id=marker.key_id, tier=marker.tier), from_ndjson(ndjson))


def _retry(message: Any, marker: Marker, exc: Exception, base_seconds: float) -> None:
    delay = retry_delay(int(message.attempts), base_seconds)
    log(f"queue: batch {marker.batch_id} attempt {message.attempts} failed, retried in {delay} s: {exc}")
    message.retry(delay)


async def dead_letter(env: Any, messages: list[Any]) -> None:
    """The dead-letter queue's consumer: a batch the queue gave up on gets its events (if they came
    in the message) and its marker in R2, where the admin sees it (GraphQL `unindexedBatches`) and
    the scheduled replay keeps trying it. If R2 fails too, the message is retried."""
    archive = stores_of(env).archive
    for message in messages:
        marker, ndjson, _ = batch_of(message.body)
        if ndjson is not None:
            await archive.store_events(marker, ndjson)
        await archive.mark_unindexed(marker, "the event queue gave up on it after its retries (max_retries)")
        log(f"queue: batch {marker.batch_id} dead-lettered, left to the replay")
        message.ack()


async def batch_status(env: Any, ref: BatchRef) -> BatchStatus:
    row = await stores_of(env).db.batch_status(ref.caller.key_id, ref.batch_id)
    if row is None or row["indexed_at"] is None:
        return BatchStatus(batch_id=ref.batch_id, indexed=False)
    received = row["received"]
    return BatchStatus(batch_id=ref.batch_id, indexed=True, received=received, accepted=row["accepted"],
                       duplicates=None if received is None else received - row["accepted"], indexed_at=row["indexed_at"])


async def unindexed_batches(env: Any) -> list[UnindexedBatch]:
    return [UnindexedBatch.model_validate(row) for row in await stores_of(env).archive.unindexed()]


async def purge_expired(env: Any, now: float | None = None, rounds: int = 20) -> int:
    """Deletes raw events past the retention window, 10,000 a statement, at most `rounds` a run
    (the cron runs every five minutes: a backlog drains over a few runs). The number deleted."""
    now = clock.now() if now is None else now
    before_ms = int((now - settings_of(env).events_retention_days * 86_400) * 1000)
    deleted = 0
    for _ in range(rounds):
        removed = await stores_of(env).db.purge_events(before_ms)
        deleted += removed
        if removed < 10_000:
            break
    return deleted


async def replay_unindexed(env: Any, max_batches: int = 500) -> dict[str, int]:
    """Indexes the batches whose marker is still in R2 (their D1 indexing failed), and gives
    their events the enrichment they missed at ingestion. Goes through every marker, so a batch
    that keeps failing holds none of the others back; at most `max_batches` are tried a run."""
    stores = stores_of(env)
    replayed = failed = orphans = remaining = 0
    counted: list[tuple[str, Groups]] = []  # the batches with new events, for Analytics Engine
    async for marker in stores.archive.markers():
        if replayed + failed + orphans >= max_batches:
            remaining += 1
            continue
        try:
            ndjson = await stores.archive.read_batch(marker.r2_key)
            if ndjson is None:
                # Its events were never stored (the client was told to send them again): nothing to index.
                await stores.archive.drop_marker(marker.batch_id)
                orphans += 1
                log(f"replay: batch {marker.batch_id} has a marker but no events; marker removed")
                continue
            accepted = await index_batch(stores, marker, ndjson)
            await stores.archive.drop_marker(marker.batch_id)
            replayed += 1
        except Exception as exc:
            failed += 1
            log(f"replay of batch {marker.batch_id} failed, kept for the next run: {exc}")
            continue
        # Only a batch that was new to D1: one already indexed (its marker outlived it) had its labels and points.
        if accepted:
            events = from_ndjson(ndjson)
            counted.append((marker.key_id, group_counts(events)))
            if enrichment.enabled(env):
                await enrichment.enrich(env, Caller(key_id=marker.key_id, tier=marker.tier), events)
    stores.telemetry.write_all(data_points(counted))
    return {"replayed": replayed, "failed": failed, "orphans_removed": orphans, "remaining": remaining}
