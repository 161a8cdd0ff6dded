"""Admissions taken ahead (shared/leases.py): slots are asked for only while the window has
plenty left and nothing else of the caller is in flight, used one request each, never past the
window; a batch's also only with events of the day's quota held for it. (With the key's counter:
tests/unit/test_admission_counter.py.)"""

import asyncio

from shared.bounded import entry_size
from shared.contract import AdmissionResult, RateWindow
from shared.leases import MAX_LEASE_BYTES, MAX_LEASED_CALLERS, Leases

NOW = 1_800_000_000.0


def test_a_caller_asks_for_slots_only_once_its_window_is_known_to_have_plenty_left():
    leases = Leases()
    assert leases.ask_size("k", limit=600, lease_size=10, now=NOW) == 1  # nothing known yet

    leases.answered("k", granted=1, window=RateWindow(limit=600, remaining=599, reset_seconds=30), now=NOW)
    assert leases.ask_size("k", limit=600, lease_size=10, now=NOW) == 10
    assert leases.ask_size("k", limit=120, lease_size=10, now=NOW) == 4  # a thirtieth of the limit at most
    assert leases.ask_size("k", limit=20, lease_size=10, now=NOW) == 1  # a small limit: one by one

    leases.answered("k", granted=1, window=RateWindow(limit=600, remaining=30, reset_seconds=30), now=NOW)
    assert leases.ask_size("k", limit=600, lease_size=10, now=NOW) == 1  # near the limit: one by one
    assert leases.ask_size("k", limit=600, lease_size=10, now=NOW + 31) == 1  # the window it knew is over


def test_granted_slots_serve_the_next_reads_then_run_out_and_end_with_their_window():
    leases = Leases()
    leases.answered("k", granted=3, window=RateWindow(limit=600, remaining=500, reset_seconds=20), now=NOW)

    taken = [leases.take("k", NOW + 1), leases.take("k", NOW + 2), leases.take("k", NOW + 3)]

    assert [(w.remaining, w.reset_seconds) for w in taken[:2]] == [(499, 19), (498, 18)]
    assert taken[2] is None  # the read that asked used the first of the three
    leases.answered("k", granted=5, window=RateWindow(limit=600, remaining=400, reset_seconds=5), now=NOW)
    assert leases.take("k", NOW + 5) is None  # its window is over
    assert leases.take("other", NOW) is None


def test_while_any_admission_of_a_caller_is_in_flight_reads_ask_for_one_slot():
    leases = Leases()
    leases.answered("k", granted=1, window=RateWindow(limit=600, remaining=599, reset_seconds=30), now=NOW)

    with leases.admitting("k"):
        assert leases.ask_size("k", limit=600, lease_size=10, now=NOW) == 1
    assert leases.ask_size("k", limit=600, lease_size=10, now=NOW) == 10


def test_a_forgotten_caller_holds_no_slots():
    leases = Leases()
    leases.answered("k", granted=5, window=RateWindow(limit=600, remaining=500, reset_seconds=30), now=NOW)
    leases.forget("k")
    assert leases.take("k", NOW) is None


def test_a_caller_not_verified_here_is_asked_for_at_the_counter_one_slot_at_a_time():
    leases = Leases()
    leases.answered("k", granted=5, window=RateWindow(limit=600, remaining=500, reset_seconds=30), now=NOW)
    asked = []

    async def ask(reserve: int) -> AdmissionResult:
        asked.append(reserve)
        return AdmissionResult(allowed=False, code="unauthorized", reason="invalid_key")

    result = asyncio.run(leases.admit("k", NOW, ask, verified=False, limit=600, lease_size=10))

    # A wrong key with a known key's prefix: the slots held for that prefix are not its to take.
    assert (result.allowed, result.reason, asked) == (False, "invalid_key", [1])
    assert leases.take("k", NOW) is not None  # still held for the verified caller


def test_a_batch_takes_a_slot_only_with_the_events_held_for_it():
    leases = Leases()
    window = RateWindow(limit=600, remaining=500, reset_seconds=30)
    leases.answered("k", granted=5, window=window, now=NOW, events_held=250)

    assert leases.take("k", NOW, events=100) is not None
    assert leases.take("k", NOW, events=100) is not None
    assert leases.take("k", NOW, events=100) is None  # 50 held here: the counter decides
    assert leases.take("k", NOW, events=50) is not None


def test_answers_that_arrive_together_add_their_slots_instead_of_replacing_them():
    """A request asked for 10 slots while 99 others of the same caller asked for one each: their
    answers come in any order, and every slot granted is counted in the window already."""
    leases = Leases()
    leases.answered("k", granted=10, window=RateWindow(limit=300, remaining=250, reset_seconds=30), now=NOW)
    for remaining in (249, 260, 248):  # later answers, some counted before the 10 and some after
        leases.answered("k", granted=1, window=RateWindow(limit=300, remaining=remaining, reset_seconds=30), now=NOW + 0.5)

    taken = [leases.take("k", NOW + 1) for _ in range(10)]

    assert [w is not None for w in taken] == [True] * 9 + [False]
    assert taken[0].remaining == 247  # the lowest remaining any answer said, less the one used here


def test_an_answer_of_a_new_window_replaces_the_slots_of_the_last_one():
    leases = Leases()
    leases.answered("k", granted=10, window=RateWindow(limit=300, remaining=250, reset_seconds=2), now=NOW)
    leases.answered("k", granted=3, window=RateWindow(limit=300, remaining=297, reset_seconds=60), now=NOW + 1)

    assert [leases.take("k", NOW + 3) is not None for _ in range(3)] == [True, True, False]


def test_slots_held_for_many_callers_stay_bounded_and_the_busy_callers_keep_theirs():
    leases = Leases()
    window = RateWindow(limit=6000, remaining=5000, reset_seconds=30)
    leases.answered("busy", granted=100, window=window, now=NOW)
    for n in range(MAX_LEASED_CALLERS + 500):
        leases.answered(f"caller-{n}-" + "x" * 200, granted=5, window=window, now=NOW)
        if n % 500 == 0:
            assert leases.take("busy", NOW) is not None  # a caller still served is not forgotten

    held = list(leases._leases.items())
    assert len(held) <= MAX_LEASED_CALLERS and sum(entry_size(holder, lease) for holder, lease in held) <= MAX_LEASE_BYTES
    assert leases.take("busy", NOW) is not None
