"""The KEY_COUNTER Durable Object namespace (inference/counter.py): admission's count and today's
usage per key, and the usage the work adds to it. Calls carry strings and numbers only."""

import json
from typing import Any

from shared.json_reader import parse_internal

MAX_KNOWN_IDS = 10_000


class Counters:
    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace
        self._ids: dict[str, Any] = {}  # key id -> its object's id (a hash of the name: the same every time)

    def _counter(self, key_id: str) -> Any:
        # A stub belongs to the request that made it; the object's id does not, so it is kept.
        object_id = self._ids.get(key_id)
        if object_id is None:
            if len(self._ids) >= MAX_KNOWN_IDS:
                self._ids.clear()
            object_id = self._ids[key_id] = self._namespace.idFromName(key_id)
        return self._namespace.get(object_id)

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0) -> tuple[int, int, dict[str, Any]]:
        """(the window's count with the slots taken, how many were taken, today's usage)."""
        answer = parse_internal(await self._counter(key_id).count(key_id, window_start, day, reserve, limit), field="count answer")
        return answer["count"], answer.get("taken", 1), answer["used"]

    async def peek(self, key_id: str, window_start: int, day: str) -> tuple[int, dict[str, Any]]:
        answer = parse_internal(await self._counter(key_id).peek(key_id, window_start, day), field="peek answer")
        return answer["count"], answer["used"]

    async def add(self, key_id: str, day: str, **delta: float) -> None:
        await self._counter(key_id).add(key_id, day, json.dumps(delta))
