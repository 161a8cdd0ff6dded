"""The event queue (the EVENT_QUEUE producer binding: the queue the inference service consumes).
The api sends it the event batches it admitted itself (api/ingestion.py), so that such a batch
takes no call to the inference service: the api touches no storage, and the inference service
stays the one that archives, indexes and counts every batch (shared/batches.py says what a
message holds)."""

from typing import Any

from shared.runtime import runtime_env


class EventQueue:
    def __init__(self, binding: Any) -> None:
        from api.runtime import Object, to_js

        self._queue = binding
        # Sent as text: no conversion, and its size is its UTF-8 bytes (shared/batches.py keeps them under the limit).
        self._as_text = to_js({"contentType": "text"}, dict_converter=Object.fromEntries)

    async def send(self, message: str) -> None:
        await self._queue.send(message, self._as_text)


_UNSET = object()
_isolate_queue: Any = _UNSET  # made on the first batch: bindings cannot change while the isolate lives


def event_queue_of(env: Any) -> EventQueue | None:
    """The queue, or None where the api has none bound (devhost, a deployment without Queues):
    every batch then goes to the inference service, which stores it as it can."""
    global _isolate_queue
    if _isolate_queue is _UNSET:
        binding = getattr(runtime_env(env), "EVENT_QUEUE", None)
        _isolate_queue = EventQueue(binding) if binding is not None else None
    return _isolate_queue
