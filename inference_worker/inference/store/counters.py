"""The KEY_COUNTER Durable Object namespace (inference/counter.py): admission's count and today's
usage per key, and the usage the work adds to it. Calls carry strings and numbers only."""

import json
from typing import Any


class Counters:
    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    def _counter(self, key_id: str) -> Any:
        return self._namespace.get(self._namespace.idFromName(key_id))

    async def count(self, key_id: str, window_start: int, day: str) -> tuple[int, dict[str, Any]]:
        answer = json.loads(await self._counter(key_id).count(key_id, window_start, day))
        return answer["count"], answer["used"]

    async def peek(self, key_id: str, window_start: int, day: str) -> tuple[int, dict[str, Any]]:
        answer = json.loads(await self._counter(key_id).peek(key_id, window_start, day))
        return answer["count"], answer["used"]

    async def add(self, key_id: str, day: str, **delta: float) -> None:
        await self._counter(key_id).add(key_id, day, json.dumps(delta))
