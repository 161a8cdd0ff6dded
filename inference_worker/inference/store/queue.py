"""Queues (the EVENT_QUEUE binding): a stored batch's marker, sent for the consumer (this worker's
queue handler, inference/events.py) to index into D1. A message is the marker as JSON text: a
few hundred bytes whatever the batch's size (its events wait in R2)."""

import json
from dataclasses import asdict
from typing import Any

from inference.store.archive import Marker


class EventQueue:
    def __init__(self, binding: Any) -> None:
        self._queue = binding

    async def send(self, marker: Marker) -> None:
        await self._queue.send(json.dumps(asdict(marker)))


def marker_of(body: Any) -> Marker:
    """A message's marker (its body as sent: JSON text)."""
    return Marker(**json.loads(body))
