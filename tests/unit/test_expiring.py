"""What an isolate remembers of verified keys (shared/expiring.py, both workers' key caches):
trusted until it expires, a remembered "no such key" told apart from nothing remembered, and
bounded by entries and bytes, so a flood of guessed keys cannot grow the isolate's memory nor
push out the keys in use."""

from shared.expiring import MAX_BYTES, MAX_ENTRIES, MISSING, ExpiringMap


def test_an_entry_is_trusted_until_it_expires():
    known = ExpiringMap()
    known.put("abc", {"id": "key_1"}, until=130)

    assert known.get("abc", now=129.9) == {"id": "key_1"}
    assert known.get("abc", now=130) is MISSING


def test_a_prefix_remembered_as_unknown_is_not_a_prefix_never_seen():
    known = ExpiringMap()
    known.put("guess", None, until=100)

    assert known.get("guess", now=50) is None
    assert known.get("other", now=50) is MISSING


def test_a_flood_of_guessed_keys_forgets_the_least_recently_used_not_the_key_in_use():
    known = ExpiringMap()
    known.put("in-use", {"id": "key_1"}, until=100)
    for n in range(MAX_ENTRIES + 1_000):
        known.put(f"guess-{n}", None, until=100)
        if n % 1_000 == 0:
            assert known.get("in-use", now=0) == {"id": "key_1"}

    assert len(known) <= MAX_ENTRIES and known.get("in-use", now=0) == {"id": "key_1"}
    assert known.get("guess-0", now=0) is MISSING


def test_long_keys_are_bounded_by_bytes_too():
    known = ExpiringMap()
    for n in range(2_000):
        known.put(f"{n}-" + "x" * 4_000, None, until=100)  # 2,000 entries of 4 KB: 8 MB unbounded

    assert len(known) < 2_000 and known.bytes <= MAX_BYTES


def test_entries_are_forgotten_by_what_they_hold():
    known = ExpiringMap()
    for prefix, key_id in (("a", "key_1"), ("b", "key_2"), ("c", "key_1")):
        known.put(prefix, {"id": key_id}, until=100)

    assert known.discard_where(lambda row: row["id"] == "key_1") == ["a", "c"]
    assert known.get("b", now=0) == {"id": "key_2"} and known.get("a", now=0) is MISSING
