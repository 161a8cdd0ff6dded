"""Admission and keys through the store, on SQLite with the project's migrations (tests/fakes.py)."""

import asyncio

from inference import admission
from inference.store.d1 import Database
from shared.contract import AdmissionRequest, Caller
from shared.reservations import Reservation
from tests.fakes import D1, inference_env


def test_each_request_in_a_window_gets_the_next_count():
    db = Database(D1())

    async def counts():
        first = [(await db.count_request("k1", 600, "2026-11-22", f"r{i}"))[0] for i in range(3)]
        other_key = (await db.count_request("k2", 600, "2026-11-22", "r9"))[0]
        next_window = (await db.count_request("k1", 660, "2026-11-22", "r10"))[0]
        again = (await db.count_request("k1", 600, "2026-11-22", "r1"))[0]  # sent again after a failover
        return first, other_key, next_window, again

    assert asyncio.run(counts()) == ([1, 2, 3], 1, 1, 2)


def test_old_windows_of_a_key_are_dropped_and_others_kept():
    d1 = D1()
    db = Database(d1)

    async def scenario():
        for n, (key, start) in enumerate((("k1", 540), ("k1", 600), ("k2", 540))):
            await db.count_request(key, start, "2026-11-22", f"r{n}")
        await db.drop_old_windows("k1", 600)

    asyncio.run(scenario())

    assert d1.rows("SELECT key_id, window_start FROM rate_windows ORDER BY 1, 2") == [("k1", 600), ("k2", 540)]


def test_the_window_and_the_seconds_left_in_it():
    assert admission.window_of(1_000_000_030.5) == (1_000_000_020, 50)
    assert admission.seconds_to_midnight(86_400 * 3 + 3_600) == 82_800


def test_a_key_is_found_by_prefix_and_revoked_once():
    db = Database(D1())

    async def scenario():
        await db.insert_key("key_1", "abcd1234", "h", "app", "pro", "2026-11-22T00:00:00+00:00")
        found = await db.find_key("abcd1234")
        return found, await db.revoke_key("key_1", "2026-11-23"), await db.revoke_key("key_1", "2026-11-24")

    found, first, second = asyncio.run(scenario())

    assert found == {"id": "key_1", "hash": "h", "tier": "pro", "revoked_at": None, "policy_json": None, "previous_hash": None,
                     "previous_valid_until": None}
    assert (first, second) == (True, False)


def test_admission_counts_each_request_and_refuses_past_the_limit_in_one_batch_each():
    env = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="2")
    ctx = type("Ctx", (), {"waitUntil": lambda self, work: None})()
    caller = Caller(key_id="k1", tier="free")
    now = 1_800_000_000.0

    async def admit_three():
        return [await admission.admit(env, ctx, AdmissionRequest(request_id=f"r{i}", kind="ai", caller=caller), now) for i in range(3)]

    results = asyncio.run(admit_three())

    assert [r.allowed for r in results] == [True, True, False]
    assert [r.window.remaining for r in results] == [1, 0, 0]
    assert results[2].reason == "rate_limit" and results[2].retry_after == 60 - int(now) % 60
    assert env.DB.batches == 3 + 1  # one round trip each (and the first one's drop of older windows, off its path)


def test_without_a_key_counter_d1_holds_reservations_so_concurrent_calls_pass_a_budget_by_one_at_most():
    env = inference_env(TIER_PRO_DAILY_BUDGET_USD="0.00002", TIER_PRO_EVENTS_PER_DAY="5")
    caller = Caller(key_id="jwt:d1", tier="pro")
    ctx = type("Ctx", (), {"waitUntil": lambda self, work: None})()

    async def scenario():
        calls = await asyncio.gather(*(admission.admit(env, ctx, AdmissionRequest(request_id=f"r{i}", kind="ai", caller=caller),
                                                    reservation=Reservation(f"r{i}", "ai", tokens=1100, cost_usd=0.000015))
                                       for i in range(20)))
        batches = [await admission.admit(env, ctx, AdmissionRequest(request_id=f"e{i}", kind="events", caller=caller, events=3,
                                                                  reservation_id=f"b{i}")) for i in range(4)]
        await admission.settle(env, caller, "r0")
        after_settling = await admission.admit(env, ctx, AdmissionRequest(request_id="r20", kind="ai", caller=caller),
                                            reservation=Reservation("r20", "ai", cost_usd=0.000015))
        return calls, batches, after_settling

    calls, batches, after_settling = asyncio.run(scenario())

    assert [r.allowed for r in calls] == [True, True] + [False] * 18
    assert {r.reason for r in calls[2:]} == {"budget"}
    assert [(r.allowed, r.reason) for r in batches] == [(True, None), (True, None), (False, "event_quota"), (False, "event_quota")]
    assert after_settling.allowed  # the first call's reservation freed (it spent nothing)
    assert env.DB.rows("SELECT COUNT(*) FROM admissions") == [(25,)]
