"""The KEY_COUNTER Durable Object namespace (inference/counter.py): admission's count and today's
usage per key, and the usage the work adds to it. Calls carry strings and numbers only."""

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from shared.bounded import BoundedMap, approximate_size
from shared.json_reader import parse_internal
from shared.reservations import Quotas, Reservation

# Key ids whose object id is kept (least recently used forgotten first: it is only computed again).
MAX_KNOWN_IDS = 10_000
MAX_KNOWN_ID_BYTES = 1024 * 1024
# An object id lives in the JS heap, out of Python's sight: its 64 hex digits and its wrapper.
OBJECT_ID_BYTES = 256


def _known_id_size(key_id: str, _object_id: Any) -> int:
    return approximate_size(key_id) + OBJECT_ID_BYTES


class Counters:
    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace
        # key id -> its object's id (a hash of the name: the same every time)
        self._ids: BoundedMap[str, Any] = BoundedMap(MAX_KNOWN_IDS, MAX_KNOWN_ID_BYTES, _known_id_size)

    def _counter(self, key_id: str) -> Any:
        # A stub belongs to the request that made it; the object's id does not, so it is kept.
        object_id = self._ids.get(key_id)
        if object_id is None:
            object_id = self._namespace.idFromName(key_id)
            self._ids.put(key_id, object_id)
        return self._namespace.get(object_id)

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0,
                    admission: dict[str, Any] | None = None) -> dict[str, Any]:
        """The counter's answer (inference/counter.py: count): the window's count with the slots
        taken, how many were taken, today's usage, what quotas are checked against, and whether
        the admission's reservation is held; the key's totals after the usage it carried
        (inference/usage_batch.py), if any."""
        answer = await self._counter(key_id).count(key_id, window_start, day, reserve, limit, json.dumps(admission) if admission else "")
        return parse_internal(answer, field="count answer")

    async def hold(self, key_id: str, day: str, reservation: Reservation, quotas: Quotas,
                   carried: dict[str, Any] | None = None) -> dict[str, Any]:
        """The counter's answer (inference/counter.py: hold): whether the reservation is held, the
        limit found reached if it is not, and the key's totals after the usage `carried`."""
        answer = await self._counter(key_id).hold(key_id, day, reservation.to_json(), json.dumps(asdict(quotas)),
                                                  json.dumps(carried) if carried else "")
        return parse_internal(answer, field="hold answer")

    async def peek(self, key_id: str, window_start: int, day: str) -> tuple[int, dict[str, Any]]:
        answer = parse_internal(await self._counter(key_id).peek(key_id, window_start, day), field="peek answer")
        return answer["count"], answer["used"]

    async def add(self, key_id: str, day: str, settles: Sequence[str] = (), period_start: str = "", **delta: float) -> dict[str, Any]:
        """Adds usage to the key's day, freeing the reservations `settles` names (their requests
        spent it); the key's totals after it (inference/counter.py: add)."""
        changes = {name: value for name, value in delta.items() if value}  # a zero changes nothing: not written
        answer = await self._counter(key_id).add(key_id, day, json.dumps(changes), json.dumps(list(settles)) if settles else "",
                                                 period_start)
        return parse_internal(answer, field="add answer") if answer else {}
