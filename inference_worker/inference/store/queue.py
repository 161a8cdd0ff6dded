"""Queues (the EVENT_QUEUE binding): a batch for the consumer (this worker's queue handler,
inference/events.py) to archive in R2, index into D1 and count in Analytics Engine. A message is
text: a line of JSON with the batch's marker and its (type, component) counts, then, when they fit
in one message, its events as they are archived (NDJSON, not escaped into the JSON); a bigger batch
is stored in R2 before it is sent, without its events.

Why the events travel in the message: a message is durable once `send` returns (Queues writes it
to disk before it answers), so a batch that fits needs no R2 write on the request's path; the
consumer, which read every batch back from R2 before, now writes it there instead."""

import json
from dataclasses import asdict
from typing import Any, NamedTuple

from inference.store.archive import Marker

# Queues takes messages of up to 128 KB; what is left is for the marker and the runtime's framing.
MAX_MESSAGE_BYTES = 100_000

Groups = list[tuple[str, str, int]]  # (type, component or "", count): a batch's events per group


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
    fields = json.loads(header)
    groups = fields.pop("groups", [])
    return QueuedBatch(Marker(**fields), ndjson or None, [tuple(group) for group in groups])


class EventQueue:
    def __init__(self, binding: Any) -> None:
        self._queue = binding

    async def send(self, message: str) -> None:
        await self._queue.send(message)
