"""Every cache an isolate keeps across requests is bounded by entries and by bytes
(shared/bounded.py): past either bound the least recently used entries are forgotten, never the
ones in use, and no single entry may take more than the whole budget."""

from dataclasses import dataclass

from shared.bounded import BoundedMap, approximate_size, entry_size

KB = 1024


def test_past_its_entries_it_forgets_the_least_recently_used():
    cache: BoundedMap[str, int] = BoundedMap(max_entries=3, max_bytes=1_000_000)
    for name in ("a", "b", "c"):
        cache.put(name, 1)
    cache.get("a")  # read: now the most recently used
    cache.put("d", 1)

    assert len(cache) == 3 and "b" not in cache and all(name in cache for name in ("a", "c", "d"))


def test_past_its_bytes_it_forgets_until_the_new_entry_fits():
    cache: BoundedMap[str, str] = BoundedMap(max_entries=1_000, max_bytes=100 * KB)
    for n in range(50):
        cache.put(f"text-{n}", "x" * 10 * KB)

    assert cache.bytes <= 100 * KB
    assert cache.bytes == sum(entry_size(key, value) for key, value in cache.items())
    assert "text-49" in cache and "text-0" not in cache


def test_an_entry_larger_than_the_whole_budget_is_not_kept():
    cache: BoundedMap[str, str] = BoundedMap(max_entries=10, max_bytes=10 * KB)
    cache.put("small", "s")
    cache.put("huge", "x" * 20 * KB)

    assert "huge" not in cache and "small" in cache


def test_putting_a_key_again_replaces_its_bytes():
    cache: BoundedMap[str, str] = BoundedMap(max_entries=10, max_bytes=100 * KB)
    cache.put("k", "x" * 50 * KB)
    cache.put("k", "y")

    assert len(cache) == 1 and cache.bytes == entry_size("k", "y") and cache.pop("k") == "y" and cache.bytes == 0


@dataclass
class Held:
    texts: list[str]
    more: dict[str, bytes]


def test_an_entrys_size_counts_what_it_holds_once_but_not_shared_classes():
    shared_text = "t" * 10 * KB
    held = Held(texts=[shared_text, shared_text], more={"b": b"b" * 20 * KB})

    size = approximate_size(held)
    assert 30 * KB < size < 32 * KB  # the text once, the bytes, and a few containers
    assert approximate_size(Held) < 1  # a class is the program's, not an entry's
