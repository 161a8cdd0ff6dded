"""Queues (the EVENT_QUEUE binding): a batch for the consumer (this worker's queue handler,
inference/events.py) to archive in R2 and index into D1. A message is JSON text: the batch's
marker and, when they fit in one message, its events (the NDJSON); a bigger batch is stored in R2
before it is sent, and its message carries the marker only.

Why the events travel in the message: a message is durable once `send` returns (Queues writes it
to disk before it answers), so a batch that fits needs no R2 write on the request's path; the
consumer, which read every batch back from R2 before, now writes it there instead."""

import json
from dataclasses import asdict
from typing import Any

from inference.store.archive import Marker

# Queues takes messages of up to 128 KB; what is left is for the marker and the runtime's framing.
MAX_MESSAGE_BYTES = 100_000


def message_of(marker: Marker, ndjson: str | None = None) -> str | None:
    """The batch's message: its marker, with its events when `ndjson` is given; None when that
    is over MAX_MESSAGE_BYTES (the batch then goes through R2)."""
    text = json.dumps({**asdict(marker), "ndjson": ndjson} if ndjson is not None else asdict(marker))
    return text if ndjson is None or len(text.encode()) <= MAX_MESSAGE_BYTES else None


def batch_of(body: Any) -> tuple[Marker, str | None]:
    """A message's marker, and the batch's events if the message carries them (else they are in R2)."""
    fields = json.loads(body)
    ndjson = fields.pop("ndjson", None)
    return Marker(**fields), ndjson


class EventQueue:
    def __init__(self, binding: Any) -> None:
        self._queue = binding

    async def send(self, message: str) -> None:
        await self._queue.send(message)
