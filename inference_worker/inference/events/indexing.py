"""Indexing a batch into D1, and what it yields: the keys' counters learn of the events (and free
the batches' reservations), Analytics Engine counts them, and the client reads the batch's
status. Indexing is idempotent (events are unique per key and id; a batch's usage is counted
once), so a message delivered twice, or a replay of a batch the queue indexed, changes nothing.
Analytics Engine counts a batch where it is indexed, if that added events (`data_points`: one
point per key, type and component for all the batches indexed together)."""

from collections import Counter
from typing import Any

from inference.log import log
from inference.settings import Settings
from inference.store import Stores, stores_of
from inference.store.d1 import day_of
from inference.store.telemetry import WRITES_PER_INVOCATION, event_point
from shared.batches import Groups, Marker
from shared.contract import BatchRef, BatchStatus

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
            await stores.counters.add(key_id, day, settles=settled, events=accepted)
        except Exception as exc:  # D1 has them: the counter is short until tomorrow's seed
            log(f"key {key_id}: {accepted} events indexed on {day} were not added to its counter: {exc}")


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


async def batch_status(env: Any, ref: BatchRef) -> BatchStatus:
    row = await stores_of(env).db.batch_status(ref.caller.key_id, ref.batch_id)
    if row is None or row["indexed_at"] is None:
        return BatchStatus(batch_id=ref.batch_id, indexed=False)
    received = row["received"]
    return BatchStatus(batch_id=ref.batch_id, indexed=True, received=received, accepted=row["accepted"],
                       duplicates=None if received is None else received - row["accepted"], indexed_at=row["indexed_at"])
