"""The inference worker keeps each key's counter object id per isolate (inference/store/counters.py):
bounded by entries and bytes, and a key in use keeps its id however many other keys pass."""

from inference.store.counters import MAX_KNOWN_ID_BYTES, MAX_KNOWN_IDS, Counters
from tests.unit.test_admission_counter import Namespace


class CountingNamespace(Namespace):
    def __init__(self) -> None:
        super().__init__()
        self.ids_made: list[str] = []

    def idFromName(self, name: str) -> str:  # noqa: N802 (the binding's own name)
        self.ids_made.append(name)
        return name


def test_a_flood_of_keys_keeps_the_ids_bounded_and_the_key_in_use_keeps_its_id():
    namespace = CountingNamespace()
    counters = Counters(namespace)
    for n in range(MAX_KNOWN_IDS + 2_000):
        counters._counter("key_in_use")
        counters._counter(f"key_{n:06d}")

    assert namespace.ids_made.count("key_in_use") == 1
    assert len(counters._ids) <= MAX_KNOWN_IDS and counters._ids.bytes <= MAX_KNOWN_ID_BYTES
