"""A batch of events between its acceptance and its indexing, as both workers see it: its marker
(enough to index it again), where R2 keeps it, its message on the event queue, and the one way a
batch is sent there (`EventQueue`).

A message is text: a line of JSON with the batch's marker and its (type, component) counts, then,
when they fit in one message, its events as they are archived (NDJSON, not escaped into the JSON);
a bigger batch is stored in R2 before it is sent, without its events. Either worker sends through
`EventQueue`: the api a batch it admitted itself (api/ingestion.py), the inference service the
rest (inference/events/ingest.py); the inference service alone consumes them.

Why the events travel in the message: a message is durable once `send` returns (Queues writes it
to disk before it answers), so a batch that fits needs no R2 write on the request's path; the
consumer writes it there instead."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from shared.errors import ApiError, ErrorCode
from shared.isolate import PerIsolate
from shared.json_reader import parse_internal
from shared.sdk import runtime_env

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


def marker_message(marker: Marker, groups: Groups) -> str:
    """The message of a batch whose events are stored in R2: its marker and groups, one line."""
    return json.dumps({**asdict(marker), "groups": groups})  # one line: JSON escapes every newline


def message_of(marker: Marker, groups: Groups, ndjson: str) -> str | None:
    """The batch's message with its events; None when that is over MAX_MESSAGE_BYTES (the batch
    then goes through R2, and its message is `marker_message`)."""
    text = f"{marker_message(marker, groups)}\n{ndjson}"
    return text if len(text) <= MAX_MESSAGE_BYTES // 4 or len(text.encode()) <= MAX_MESSAGE_BYTES else None


def batch_of(body: Any) -> QueuedBatch:
    """A message's batch (one sent before groups travelled has none: its points were written
    when it was received)."""
    header, _, ndjson = body.partition("\n")
    fields = parse_internal(header, field="message header")
    groups = fields.pop("groups", [])
    return QueuedBatch(Marker(**fields), ndjson or None, [tuple(group) for group in groups])


# How long a client told to send a batch again (it could not be stored) is asked to wait.
RESEND_AFTER_SECONDS = 5


class BatchNotStored(ApiError):
    """A batch neither queued nor stored: nothing was accepted, and the client is told to send it
    again (its events' ids make the retry harmless). A 503 with Retry-After."""

    def __init__(self, batch_id: str, cause: str) -> None:
        super().__init__(ErrorCode.SERVICE_UNAVAILABLE, "The events could not be stored; send them again",
                         headers={"retry-after": str(RESEND_AFTER_SECONDS)})
        self.cause = f"batch {batch_id}: {cause}"


class TextSender(Protocol):
    """A queue binding that takes a message as text (shared/queue_binding.py under the runtime)."""

    async def send(self, text: str) -> None: ...


class EventQueue:
    """The event queue as both producers send to it: a batch goes with its events in its message
    when they fit; a bigger one is stored first by `store` (R2, which only the inference service
    writes) and its message carries its marker."""

    def __init__(self, sender: TextSender) -> None:
        self._sender = sender

    async def send(self, marker: Marker, groups: Groups, ndjson: str,
                   store: Callable[[Marker, str], Awaitable[Any]] | None = None) -> bool:
        """True once the batch is durable in the queue; False when it is too big for one message
        and there is no `store` (the api's case: the inference service then takes it). Raises
        BatchNotStored when `store` or the queue refused it."""
        message = message_of(marker, groups, ndjson)
        if message is None:
            if store is None:
                return False
            try:
                await store(marker, ndjson)
            except Exception as exc:
                raise BatchNotStored(marker.batch_id, f"storing its events failed: {exc}") from None
            message = marker_message(marker, groups)
        try:
            await self._sender.send(message)
        except Exception as exc:
            raise BatchNotStored(marker.batch_id, f"queue send failed: {exc}") from None
        return True


def _event_queue(env: Any) -> EventQueue | None:
    """The queue bound as EVENT_QUEUE, or None where the worker has none (a deployment without
    Queues): only then is a batch stored and indexed as it comes (inference/events/ingest.py).
    Under the runtime its own binding is spoken to (shared/queue_binding.py); a test's stand-in as it is."""
    source = runtime_env(env)
    binding = getattr(source, "EVENT_QUEUE", None)
    if binding is None:
        return None
    if source is not env:
        from shared.queue_binding import TextQueue  # imports js: only under the runtime

        binding = TextQueue(binding)
    return EventQueue(binding)


# Made once an isolate: its text option is a JavaScript object, built once, not a batch.
event_queue = PerIsolate(_event_queue)
