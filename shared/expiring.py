"""A per-isolate map whose entries are trusted until they expire: what an isolate remembers of
keys it saw verified (api/admission.py, inference/admission.py). Bounded: past `capacity` it
forgets everything, so a flood of guessed keys cannot grow the isolate's memory (an entry
forgotten only costs a lookup again)."""

from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")
MISSING = object()  # what `get` answers for no entry, or an expired one (an entry may hold None)


class ExpiringMap(Generic[Value]):
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: dict[str, tuple[float, Value]] = {}

    def get(self, key: str, now: float) -> Value | object:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > now else MISSING

    def put(self, key: str, value: Value, until: float) -> None:
        if len(self._entries) >= self.capacity and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (until, value)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def discard_where(self, condition: Callable[[Value], bool]) -> list[str]:
        """Forgets the entries whose value meets `condition`; their keys."""
        keys = [key for key, (_, value) in self._entries.items() if condition(value)]
        for key in keys:
            del self._entries[key]
        return keys

    def __len__(self) -> int:
        return len(self._entries)
