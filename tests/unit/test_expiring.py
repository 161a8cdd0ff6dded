"""What an isolate remembers of verified keys (shared/expiring.py, both workers' key caches):
trusted until it expires, a remembered "no such key" told apart from nothing remembered, and
bounded, so a flood of guessed keys cannot grow the isolate's memory."""

from shared.expiring import MISSING, ExpiringMap


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


def test_past_its_capacity_it_forgets_everything_rather_than_grow():
    known = ExpiringMap(capacity=3)
    for prefix in ("a", "b", "c", "d"):
        known.put(prefix, prefix, until=100)

    assert len(known) == 1 and known.get("d", now=0) == "d" and known.get("a", now=0) is MISSING


def test_entries_are_forgotten_by_what_they_hold():
    known = ExpiringMap()
    for prefix, key_id in (("a", "key_1"), ("b", "key_2"), ("c", "key_1")):
        known.put(prefix, {"id": key_id}, until=100)

    assert known.discard_where(lambda row: row["id"] == "key_1") == ["a", "c"]
    assert known.get("b", now=0) == {"id": "key_2"} and known.get("a", now=0) is MISSING
