"""Read admissions taken ahead (shared/leases.py): slots are asked for only while the window has
plenty left and nothing else of the caller is in flight, used one read each, never past the window."""

from shared.contract import RateWindow
from shared.leases import Leases

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
