"""A per-isolate map whose entries are trusted until they expire: what an isolate remembers of
keys it saw verified (api/admission.py, inference/admission.py). Bounded by entries and by bytes
(shared/bounded.py): a flood of guessed keys forgets the least recently used entries first, and
an entry forgotten only costs a lookup again."""

from collections.abc import Callable
from typing import Generic, TypeVar

from shared.bounded import BoundedMap

Value = TypeVar("Value")
MISSING = object()  # what `get` answers for no entry, or an expired one (an entry may hold None)

# An entry (a key's prefix or a credential's holder, and what was verified of it) takes 1-2.5 KB:
# ~800-2,000 fit the bytes, more callers than one isolate sees in KEY_CACHE_SECONDS; the bytes stay
# a small share of the headroom its memory has (docs/benchmarks.md, Memory).
MAX_ENTRIES = 10_000
MAX_BYTES = 2 * 1024 * 1024


class ExpiringMap(Generic[Value]):
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._entries: BoundedMap[str, tuple[float, Value]] = BoundedMap(max_entries, max_bytes)

    def get(self, key: str, now: float) -> Value | object:
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry[0] <= now:
            self._entries.pop(key)
            return MISSING
        return entry[1]

    def put(self, key: str, value: Value, until: float) -> None:
        self._entries.put(key, (until, value))

    def discard(self, key: str) -> None:
        self._entries.pop(key)

    def discard_where(self, condition: Callable[[Value], bool]) -> list[str]:
        """Forgets the entries whose value meets `condition`; their keys."""
        keys = [key for key, (_, value) in self._entries.items() if condition(value)]
        for key in keys:
            self._entries.pop(key)
        return keys

    @property
    def bytes(self) -> int:
        return self._entries.bytes

    def __len__(self) -> int:
        return len(self._entries)
