"""Queues (the EVENT_QUEUE binding): a batch for the consumer (this worker's queue handler,
inference/events.py) to archive in R2, index into D1 and count in Analytics Engine; its message
is shared/batches.py's."""

from typing import Any


class EventQueue:
    def __init__(self, binding: Any) -> None:
        self._queue = binding

    async def send(self, message: str) -> None:
        await self._queue.send(message)
