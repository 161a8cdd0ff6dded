"""A map bounded by entries and by bytes that forgets its least recently used entries first: what
every cache an isolate keeps across requests is made of (shared/expiring.py, shared/leases.py,
shared/throttle.py, api/graphql.py, inference/store/counters.py), so that no traffic (a flood of
guessed keys, of distinct queries, of client addresses) grows an isolate's memory past its share
of the 128 MB Cloudflare allows one (docs/benchmarks.md, Memory, sums the bounds).

Bytes are what the entry's Python objects take (`approximate_size`): in an isolate they live in
Pyodide's WebAssembly memory, which grows and never shrinks, so a bound in bytes is a bound on how
much a cache can ever cost."""

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from enum import Enum
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")

# Shared by everything that refers to them, so never a cache entry's own bytes.
_NOT_OWNED = (type, ModuleType, FunctionType, BuiltinFunctionType, MethodType, Enum, bool, type(None))


_slots: dict[type, tuple[str, ...]] = {}  # a class's slot names, its bases' included: one entry per class sized


def _slots_of(cls: type) -> tuple[str, ...]:
    if (names := _slots.get(cls)) is None:
        declared = [(slots,) if isinstance(slots := getattr(klass, "__slots__", ()), str) else slots for klass in cls.__mro__]
        names = _slots[cls] = tuple(slot for slots in declared for slot in slots if slot not in ("__dict__", "__weakref__"))
    return names


def approximate_size(value: object) -> int:
    """The bytes `value` and what it holds take: containers' items, instances' attributes (in a
    __dict__ or in __slots__), each object counted once; classes, modules, functions and enum
    members, shared with the rest of the program, are not counted."""
    total = 0
    seen: set[int] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, _NOT_OWNED) or id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, str | bytes | bytearray | int | float | complex):
            continue
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
            continue
        if isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
            continue
        if (attributes := getattr(item, "__dict__", None)) is not None and isinstance(attributes, dict):
            pending.append(attributes)
        for slot in _slots_of(type(item)):
            if (held := getattr(item, slot, None)) is not None:
                pending.append(held)
    return total


def entry_size(key: object, value: object) -> int:
    """An entry's bytes: its key's and its value's."""
    return approximate_size((key, value))


class BoundedMap(Generic[Key, Value]):
    """At most `max_entries` entries of at most `max_bytes` together (`size(key, value)` each,
    measured once as it is put); putting one past either bound forgets the least recently used
    (read or put) until both hold. An entry larger than `max_bytes` by itself is not kept."""

    def __init__(self, max_entries: int, max_bytes: int, size: Callable[[Key, Value], int] = entry_size) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size = size
        self._entries: OrderedDict[Key, tuple[int, Value]] = OrderedDict()
        self.bytes = 0

    def get(self, key: Key) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Key, value: Value) -> None:
        self.pop(key)
        size = self._size(key, value)
        if size > self.max_bytes:
            return
        while self._entries and (len(self._entries) >= self.max_entries or self.bytes + size > self.max_bytes):
            _, (forgotten, _) = self._entries.popitem(last=False)
            self.bytes -= forgotten
        self._entries[key] = (size, value)
        self.bytes += size

    def pop(self, key: Key) -> Value | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.bytes -= entry[0]
        return entry[1]

    def items(self) -> Iterator[tuple[Key, Value]]:
        """The entries, least recently used first (a copy: the map may change while it is read)."""
        return iter([(key, value) for key, (_, value) in self._entries.items()])

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
