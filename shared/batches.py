"""A batch of events between its acceptance and its indexing, as both workers see it: its marker
(enough to index it again), where R2 keeps it, and its message on the event queue.

A message is text: a line of JSON with the batch's marker and its (type, component) counts, then,
when they fit in one message, its events as they are archived (NDJSON, not escaped into the JSON);
a bigger batch is stored in R2 before it is sent, without its events. Either worker may send one:
the api a batch it admitted itself (api/ingestion.py), the inference service the rest
(inference/events.py); the inference service alone consumes them.

Why the events travel in the message: a message is durable once `send` returns (Queues writes it
to disk before it answers), so a batch that fits needs no R2 write on the request's path; the
consumer writes it there instead."""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from shared.json_reader import parse_internal

# Queues takes messages of up to 128 KB; what is left is for the marker and the runtime's framing.
MAX_MESSAGE_BYTES = 100_000

Groups = list[tuple[str, str, int]]  # (type, component or "", count): a batch's events per group


def archive_key(batch_id: str, received_at: int) -> str:
    day = datetime.fromtimestamp(received_at / 1000, UTC).strftime("%Y-%m-%d")
    return f"events/{day}/{batch_id}.ndjson"


@dataclass(frozen=True)
class Marker:
    """A batch R2 holds and D1 may not: enough to index it again."""

    batch_id: str
    key_id: str
    tier: str
    r2_key: str
    received_at: int

    @classmethod
    def received(cls, batch_id: str, key_id: str, tier: str, received_at: int) -> "Marker":
        """A batch's marker as it is accepted: its R2 key follows from its id and day."""
        return cls(batch_id, key_id, tier, archive_key(batch_id, received_at), received_at)


class QueuedBatch(NamedTuple):
    marker: Marker
    ndjson: str | None  # the events, when the message carries them (else they are in R2)
    groups: Groups


def message_of(marker: Marker, groups: Groups, ndjson: str | None = None) -> str | None:
    """The batch's message: its marker and groups, then its events when `ndjson` is given; None
    when that is over MAX_MESSAGE_BYTES (the batch then goes through R2)."""
    header = json.dumps({**asdict(marker), "groups": groups})  # one line: JSON escapes every newline
    if ndjson is None:
        return header
    text = f"{header}\n{ndjson}"
    return text if len(text) <= MAX_MESSAGE_BYTES // 4 or len(text.encode()) <= MAX_MESSAGE_BYTES else None


def batch_of(body: Any) -> QueuedBatch:
    """A message's batch (one sent before groups travelled has none: its points were written
    when it was received)."""
    header, _, ndjson = body.partition("\n")
    fields = parse_internal(header, field="message header")
    groups = fields.pop("groups", [])
    return QueuedBatch(Marker(**fields), ndjson or None, [tuple(group) for group in groups])
