"""The arithmetic of quota reservations (shared/reservations.py), as the key's counter applies it."""

from shared.reservations import AHEAD_SECONDS, RESERVATION_SECONDS, Ledger, Quotas, Reservation

QUOTAS = Quotas(tokens_per_day=10_000, daily_budget_usd=0.01, events_per_day=1_000)
EMPTY = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0, "events": 0, "cost_usd": 0.0}
NOW = 1_800_000_000.0


def test_reservations_are_held_while_usage_and_holds_are_under_the_quota_so_it_is_passed_by_one_at_most():
    ledger = Ledger(EMPTY)

    outcomes = [ledger.reserve(Reservation(f"r{i}", "ai", tokens=100, cost_usd=0.004), QUOTAS, NOW)[0] for i in range(5)]

    assert outcomes == [None, None, None, "budget", "budget"]  # 0.012 held: the third call's worth over at most
    assert ledger.committed() == {"tokens": 300, "cost_usd": 0.012, "events": 0}


def test_settling_counts_what_was_spent_and_frees_the_rest():
    ledger = Ledger(EMPTY)
    ledger.reserve(Reservation("r", "ai", tokens=5_000, cost_usd=0.009), QUOTAS, NOW)

    ledger.settle(["r"], {"prompt_tokens": 40, "completion_tokens": 60, "cost_usd": 0.001})

    assert ledger.committed() == {"tokens": 100, "cost_usd": 0.001, "events": 0}
    assert ledger.reserve(Reservation("next", "ai", tokens=5_000, cost_usd=0.009), QUOTAS, NOW) == (None, 0)


def test_the_same_request_sent_again_is_held_once_and_admitted():
    ledger = Ledger({**EMPTY, "events": 990})
    assert ledger.reserve(Reservation("b1", "events", events=10), QUOTAS, NOW) == (None, 0)

    # The quota is used up with it, but it is the same batch: admitted on its first reservation.
    assert ledger.reserve(Reservation("b1", "events", events=10), QUOTAS, NOW) == (None, 0)
    assert ledger.reserve(Reservation("b2", "events", events=10), QUOTAS, NOW) == ("event_quota", 0)
    assert ledger.committed()["events"] == 1_000


def test_reservations_nobody_settled_expire():
    ledger = Ledger(EMPTY)
    ledger.reserve(Reservation("lost", "ai", tokens=10_000), QUOTAS, NOW)
    assert ledger.reserve(Reservation("r", "ai", tokens=1), QUOTAS, NOW)[0] == "token_quota"

    assert ledger.expired(NOW + RESERVATION_SECONDS) == ["lost"]
    assert ledger.reserve(Reservation("r", "ai", tokens=1), QUOTAS, NOW + RESERVATION_SECONDS)[0] is None


def test_events_are_held_ahead_for_slots_only_while_the_quota_has_plenty_left():
    ledger = Ledger(EMPTY)

    assert ledger.reserve(Reservation("b1", "events", events=50), QUOTAS, NOW, ahead_events=200) == (None, 200)
    assert ledger.committed()["events"] == 250
    # 750 left after this batch's 50 would be 700: less than 4 x 200, so nothing is held ahead.
    assert ledger.reserve(Reservation("b2", "events", events=50), QUOTAS, NOW, ahead_events=200) == (None, 0)
    assert ledger.expired(NOW + AHEAD_SECONDS) == ["b1+ahead"]
