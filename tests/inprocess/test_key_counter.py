"""The key's counter (inference/counter.py) keeps its current window's count and admitted ids in
memory, written through to its SQLite storage: an instance that starts over the same storage (the
object evicted, or moved) goes on from what was stored, and the same admission sent again is
counted once, however many the window holds."""

import asyncio
import json
from types import SimpleNamespace

from inference import counter
from inference.counter import KeyCounter
from tests.fakes import inference_env
from tests.inprocess.host import SqlStorage

WINDOW = 1_800_000_000 - 1_800_000_000 % 60
DAY = "2027-01-15"


def new_instance(storage: SqlStorage) -> KeyCounter:
    return KeyCounter(SimpleNamespace(storage=SimpleNamespace(sql=storage)), inference_env())


def count(instance: KeyCounter, admission_id: str, window: int = WINDOW, reserve: int = 1, limit: int = 100) -> dict:
    admission = json.dumps({"id": admission_id, "kind": "read"})
    return json.loads(asyncio.run(instance.count("key_1", window, DAY, reserve, limit, admission)))


def test_a_new_instance_goes_on_counting_from_what_the_last_one_stored():
    storage = SqlStorage()
    first = new_instance(storage)
    assert [count(first, f"r{i}")["count"] for i in range(3)] == [1, 2, 3]

    second = new_instance(storage)

    assert count(second, "r3")["count"] == 4
    assert count(second, "r4", reserve=5)["count"] == 9  # slots ahead counted too
    assert json.loads(asyncio.run(second.peek("key_1", WINDOW, DAY)))["count"] == 9


def test_an_admission_sent_again_is_answered_as_it_was_by_this_or_a_new_instance():
    storage = SqlStorage()
    first = new_instance(storage)
    answer = count(first, "same")
    count(first, "other")

    assert count(first, "same") == answer
    assert count(new_instance(storage), "same") == answer
    assert count(new_instance(storage), "third")["count"] == 3


def test_past_the_ids_kept_in_memory_a_resend_is_still_counted_once(monkeypatch):
    monkeypatch.setattr(counter, "MAX_KEPT_IDS", 3)
    instance = new_instance(SqlStorage())
    answers = [count(instance, f"r{i}", limit=0) for i in range(5)]  # more ids than are kept

    assert [count(instance, f"r{i}", limit=0) for i in range(5)] == answers
    assert count(instance, "r5", limit=0)["count"] == 6


def test_a_new_window_starts_from_one_and_the_old_one_is_dropped():
    storage = SqlStorage()
    instance = new_instance(storage)
    count(instance, "a")
    count(instance, "b")

    assert count(instance, "c", window=WINDOW + 60)["count"] == 1
    assert storage.exec("SELECT start FROM windows").toArray().to_py() == [{"start": WINDOW + 60}]
    assert count(new_instance(storage), "a", window=WINDOW + 60)["count"] == 2  # an old window's id counts anew
