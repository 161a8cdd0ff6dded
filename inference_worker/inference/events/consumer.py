"""The event queue's consumer (this worker's queue handler, inference_worker/entry.py): archives
in R2 the batches whose events came in their message, then indexes every message's batch in one
D1 transaction; if that fails, each on its own, so that one bad batch holds no other back. A
batch that fails is retried with backoff (EVENT_RETRY_BASE_SECONDS, doubling, the queue's
max_retries; then the dead-letter queue: dead_letters.py)."""

import asyncio
from typing import Any

from inference import enrichment
from inference.events.indexing import count_events, data_points, index_batch
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared.batches import Groups, Marker, batch_of
from shared.contract import Caller
from shared.events import from_ndjson

MAX_RETRY_DELAY_SECONDS = 300


def retry_delay(attempts: int, base_seconds: float) -> int:
    """Exponential backoff for a message that failed `attempts` times: base, 2 x base, ... up to 5 minutes."""
    return int(min(MAX_RETRY_DELAY_SECONDS, base_seconds * 2 ** max(0, attempts - 1)))


async def consume(env: Any, messages: list[Any]) -> None:
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


def _retry(message: Any, marker: Marker, exc: BaseException, base_seconds: float) -> None:
    delay = retry_delay(int(message.attempts), base_seconds)
    log(f"queue: batch {marker.batch_id} attempt {message.attempts} failed, retried in {delay} s: {exc}")
    message.retry(delay)
