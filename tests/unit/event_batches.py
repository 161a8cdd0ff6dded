"""Event batches as the inference service's event jobs meet them in the unit tests: a batch's
events as archived, stored in the fake R2, handed over by the api, or delivered by the queue."""

import asyncio
import json
from dataclasses import asdict

from shared.batches import Marker, message_of
from shared.contract import Caller, EventBatch
from shared.events import checked_events, from_ndjson, group_counts

T0 = 1_800_000_000_000
DAY = "2027-01-15"  # T0's
CTX = type("Ctx", (), {"waitUntil": lambda self, work: None})()


def ndjson_of(n: int, events_in_batch: int = 3, filler: str = "") -> str:
    return "".join(json.dumps({"id": f"e{n}-{i}", "type": "view", "name": None, "component": None, "session_id": None,
                               "user_id": None, "ts": T0 + i, "properties": {"note": filler} if filler else None}) + "\n"
                   for i in range(events_in_batch))


def groups_of(ndjson: str) -> list[tuple[str, str, int]]:
    return group_counts(from_ndjson(ndjson))


def marker_of(batch_id: str) -> Marker:
    return Marker(batch_id=batch_id, key_id="k", tier="pro", r2_key=f"events/{DAY}/{batch_id}.ndjson", received_at=T0)


def stored_batch(env, n: int, events_in_batch: int = 3) -> Marker:
    """A batch whose events R2 holds, and its marker."""
    marker = marker_of(f"b{n}")
    asyncio.run(env.ARCHIVE.put(marker.r2_key, ndjson_of(n, events_in_batch)))
    return marker


def sent_batch(n: int, ndjson: str) -> EventBatch:
    """A batch as the api hands it over (its events already checked)."""
    return EventBatch(request_id="r", caller=Caller(key_id="k", tier="pro"), batch_id=f"b{n}", received_at=T0,
                      ndjson=ndjson, count=ndjson.count("\n"), groups=groups_of(ndjson))


def batch_of_types(*types: str, batch_id: str = "b2") -> EventBatch:
    """The batch the api would hand over for events of these types (api/ingestion.py)."""
    events, ndjson, _ = checked_events([{"type": t} for t in types], T0, max_events=100)
    return EventBatch(request_id="r", caller=Caller(key_id="k", tier="pro"), batch_id=batch_id, received_at=T0,
                      ndjson=ndjson, count=len(events), groups=group_counts(events))


class Message:
    """A delivered message, as store/runtime.QueueMessage presents one: its events in it when
    `ndjson` is given, else its marker alone (as a message sent before groups travelled)."""

    def __init__(self, marker: Marker, attempts: int = 1, ndjson: str | None = None) -> None:
        self.body = message_of(marker, groups_of(ndjson), ndjson) if ndjson is not None else json.dumps(asdict(marker))
        self.attempts = attempts
        self.acked = False
        self.retried_after: int | None = None

    def ack(self) -> None:
        self.acked = True

    def retry(self, delay_seconds: int) -> None:
        self.retried_after = delay_seconds
