"""Admission with a key counter bound (KEY_COUNTER, inference/counter.py): the request is counted
by the counter, and D1 takes no write for it. The counter here is a stand-in with the object's
contract (count / peek / add over JSON text); the object itself runs in the e2e tests on workerd."""

import asyncio
import json

from inference import admission
from inference.settings import settings_of
from inference.store.counters import Counters
from shared.contract import AdmissionRequest, Caller
from shared.leases import Leases, slots_to_take
from shared.reservations import Ledger, Quotas, Reservation
from tests.fakes import inference_env


class CounterStandIn:
    """The counter's contract over JSON text, with the same arithmetic (shared/reservations.py)."""

    def __init__(self) -> None:
        self.windows: dict[int, int] = {}
        self.used = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0, "events": 0, "cost_usd": 0.0}
        self.ledger = Ledger(self.used)
        self.admitted: dict[str, str] = {}

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0, admission: str = "") -> str:
        extra = json.loads(admission) if admission else {}
        if extra.get("id") in self.admitted:
            return self.admitted[extra["id"]]
        totals = self._carried(extra.get("carried"))
        self.ledger.used = self.used
        spent = self.ledger.committed()
        reservation = Reservation.from_dict(extra["reservation"]) if extra.get("reservation") else None
        quotas = Quotas.from_dict(extra["limits"]) if extra.get("limits") else None
        ahead = int(extra.get("ahead", 0))
        if reservation is not None and not self.ledger.room_ahead(reservation, quotas, ahead):
            reserve, ahead = 1, 0
        taken = slots_to_take(self.windows.get(window_start, 0), reserve, limit)
        self.windows[window_start] = self.windows.get(window_start, 0) + taken
        answer = {"count": self.windows[window_start], "taken": taken, "used": self.used, "committed": spent, "refusal": None,
                  "totals": totals}
        if reservation is not None and self.windows[window_start] - taken < limit:
            refusal, ahead = self.ledger.reserve(reservation, quotas, 0, ahead)
            answer |= {"held": refusal is None, "ahead": ahead, "refusal": refusal}
        elif quotas is not None:
            answer["refusal"] = self.ledger.refusal(extra.get("kind", "read"), quotas, window_start)
        if extra.get("id"):
            self.admitted[extra["id"]] = json.dumps({**answer, "totals": None})
        return json.dumps(answer)

    async def hold(self, key_id: str, day: str, reservation: str, limits: str, carried: str = "") -> str:
        totals = self._carried(json.loads(carried) if carried else None)
        self.ledger.used = self.used
        spent = self.ledger.committed()
        refusal, _ = self.ledger.reserve(Reservation.from_json(reservation), Quotas.from_dict(json.loads(limits)), 0)
        return json.dumps({"held": refusal is None, "committed": spent, "refusal": refusal, "totals": totals})

    async def peek(self, key_id: str, window_start: int, day: str) -> str:
        return json.dumps({"count": self.windows.get(window_start, 0), "used": self.used})

    async def add(self, key_id: str, day: str, delta: str, settles: str = "", period_start: str = "") -> str:
        return json.dumps(self._add(json.loads(delta), json.loads(settles) if settles else []))

    def _carried(self, carried: dict | None) -> dict | None:
        """The usage an admission carries (inference/usage_batch.py), applied before it is counted."""
        return self._add(carried["delta"], carried["settles"]) if carried else None

    def _add(self, delta: dict, settles: list[str]) -> dict:
        self.ledger.used = self.used
        self.ledger.settle(settles, delta)
        return {"used": self.used, "period_cost": self.ledger.prior_cost + self.used["cost_usd"]}


class Namespace:
    def __init__(self) -> None:
        self.objects: dict[str, CounterStandIn] = {}

    def idFromName(self, name: str) -> str:  # noqa: N802 (the binding's own name)
        return name

    def get(self, object_id: str) -> CounterStandIn:
        return self.objects.setdefault(object_id, CounterStandIn())


def test_admission_counts_in_the_keys_counter_and_writes_nothing_to_d1():
    env = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="2")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:alice", tier="free")

    async def three():
        return [await admission.admit(env, None, AdmissionRequest(request_id=f"r{i}", kind="read", caller=caller), now=1_800_000_000)
                for i in range(3)]

    results = asyncio.run(three())

    assert [r.allowed for r in results] == [True, True, False]
    assert results[2].reason == "rate_limit" and results[1].window.remaining == 0
    assert env.KEY_COUNTER.objects["jwt:alice"].windows == {1_800_000_000 - 1_800_000_000 % 60: 3}
    assert env.DB.rows("SELECT COUNT(*) FROM rate_windows") == [(0,)]


def test_the_daily_budget_is_checked_against_the_counters_usage():
    env = inference_env(TIER_PRO_DAILY_BUDGET_USD="0.01")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:bob", tier="pro")
    env.KEY_COUNTER.get("jwt:bob").used["cost_usd"] = 0.02

    result = asyncio.run(admission.admit(env, None, AdmissionRequest(request_id="r", kind="ai", caller=caller)))

    assert (result.allowed, result.reason) == (False, "budget")


def test_a_read_takes_the_slots_it_asks_for_only_while_they_fit_under_the_limit():
    env = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="12")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:carol", tier="free")

    async def reads():
        return [await admission.admit(env, None, AdmissionRequest(request_id=f"r{i}", kind="read", caller=caller, reserve=5),
                                   now=1_800_000_000) for i in range(4)]

    results = asyncio.run(reads())

    # 5 slots, 5 more, the last 2, then a refusal that still counts.
    assert [(r.allowed, r.granted) for r in results] == [(True, 5), (True, 5), (True, 2), (False, 0)]
    assert [r.window.remaining for r in results[:3]] == [11, 6, 1]  # as each request leaves it: its leased slots still count as left
    assert env.KEY_COUNTER.objects["jwt:carol"].windows == {1_800_000_000 - 1_800_000_000 % 60: 13}


def test_slots_taken_never_pass_the_limit_and_a_request_always_counts():
    assert [slots_to_take(current, 10, 12) for current in (0, 2, 5, 11, 12, 20)] == [10, 10, 7, 1, 1, 1]
    assert slots_to_take(3, 10, 0) == 1


class CountingNamespace(Namespace):
    """Counts the calls its counters take (each one an RPC to a Durable Object on Cloudflare)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, object_id: str) -> CounterStandIn:
        counter = super().get(object_id)
        real_count = type(counter).count

        async def count(*args, **kwargs) -> str:
            self.calls += 1
            return await real_count(counter, *args, **kwargs)
        counter.count = count
        return counter


def batches(env, caller: Caller, sizes: list[int], leases: Leases, now: float = 1_800_000_000) -> list:
    """Batches admitted as the api admits them (shared/leases.py, api/admission.py admit_batch): from a
    slot its isolate holds, with events held for it, else by the counter through admission.admit (an
    RPC in the workers), the batch's events reserved."""
    limit = settings_of(env).limits_for(caller.tier).requests_per_minute

    async def admit_all():
        results = []
        for i, size in enumerate(sizes):
            async def ask(reserve: int, i=i, size=size):
                request = AdmissionRequest(request_id=f"r{i}", kind="events", caller=caller, reserve=reserve, events=size,
                                           reservation_id=f"b{i}", events_ahead=(reserve - 1) * size)
                return await admission.admit(env, None, request, now=now)
            results.append(await leases.admit(caller.key_id, now, ask, verified=True, limit=limit, lease_size=10, events=size))
        return results
    return asyncio.run(admit_all())


def test_event_batches_are_admitted_from_slots_taken_ahead_and_never_past_the_limit():
    env = inference_env(TIER_PRO_REQUESTS_PER_MINUTE="300")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_a", tier="pro")

    results = batches(env, caller, [100] * 305, Leases())

    assert [r.allowed for r in results] == [True] * 300 + [False] * 5  # exactly the limit
    # 1 call for the first batch, then 1 for 10 batches while the window has 4 x 10 left, then one
    # for each of the last 40 batches and the 5 refused: 71 calls for 305 batches.
    assert env.KEY_COUNTER.calls == 71
    assert env.KEY_COUNTER.objects["key_lease_a"].windows == {1_800_000_000 - 1_800_000_000 % 60: 305}  # none unused
    assert [r.window.remaining for r in results[:3]] == [299, 298, 297]


def test_batches_reserve_their_events_as_they_are_admitted_so_the_quota_is_passed_by_one_batch_at_most():
    env = inference_env(TIER_PRO_EVENTS_PER_DAY="1000")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_b", tier="pro")
    env.KEY_COUNTER.get("key_lease_b").used["events"] = 650  # indexed before

    # None of them indexed yet: each one's events are held from its admission on.
    results = batches(env, caller, [100, 100, 100, 100, 100], Leases())

    assert [(r.allowed, r.reason) for r in results] == [(True, None)] * 4 + [(False, "event_quota")]
    # Near the quota no events are held ahead, so no batch is admitted without a call.
    assert env.KEY_COUNTER.calls == 5
    assert env.KEY_COUNTER.objects["key_lease_b"].ledger.committed()["events"] == 1050  # 50 over: less than one batch


def test_slots_taken_ahead_hold_the_events_of_the_batches_they_admit():
    env = inference_env(TIER_PRO_EVENTS_PER_DAY="10000")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_d", tier="pro")
    leases = Leases()

    results = batches(env, caller, [100] * 11 + [500], leases)

    assert all(r.allowed for r in results)
    counter = env.KEY_COUNTER.objects["key_lease_d"]
    # The first batch alone, the second with 9 slots and 900 events ahead: the next 9 from them;
    # a batch bigger than what is held here asks the counter.
    assert env.KEY_COUNTER.calls == 3
    assert counter.ledger.committed()["events"] == 100 + 100 + 900 + 500
    # Indexed, a batch's own reservation becomes its count (less the events indexed before).
    asyncio.run(Counters(env.KEY_COUNTER).add("key_lease_d", "2027-01-15", settles=["b0", "b1"], events=150))
    assert counter.ledger.committed()["events"] == 150 + 900 + 500


def test_a_used_up_event_quota_is_refused_and_takes_no_slots_ahead():
    env = inference_env(TIER_PRO_EVENTS_PER_DAY="1000")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_c", tier="pro")
    env.KEY_COUNTER.get("key_lease_c").used["events"] = 1000

    results = batches(env, caller, [10] * 4, Leases())

    assert [r.reason for r in results] == ["event_quota"] * 4
    assert env.KEY_COUNTER.calls == 4
    assert env.KEY_COUNTER.objects["key_lease_c"].windows == {1_800_000_000 - 1_800_000_000 % 60: 4}  # one slot each, none ahead


def test_concurrent_model_calls_reserve_their_worst_case_so_a_budget_is_passed_by_one_call_at_most():
    env = inference_env(TIER_PRO_DAILY_BUDGET_USD="0.00002")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:dave", tier="pro")

    async def twenty_at_once():
        return await asyncio.gather(*(admission.admit(env, None, AdmissionRequest(request_id=f"r{i}", kind="ai", caller=caller),
                                                   reservation=Reservation(f"r{i}", "ai", tokens=1100, cost_usd=0.000015))
                                      for i in range(20)))

    results = asyncio.run(twenty_at_once())

    assert [r.allowed for r in results] == [True, True] + [False] * 18  # 0.00003 held: one call's worth over
    assert {r.reason for r in results[2:]} == {"budget"}
    counter = env.KEY_COUNTER.objects["jwt:dave"]
    # The calls spent less than they held: settled, the rest is free again, and the budget open.
    for i in range(2):
        asyncio.run(Counters(env.KEY_COUNTER).add("jwt:dave", "2027-01-15", settles=[f"r{i}"], cost_usd=0.000004))
    assert counter.ledger.committed()["cost_usd"] == 0.000008
    again = asyncio.run(admission.admit(env, None, AdmissionRequest(request_id="r20", kind="ai", caller=caller),
                                     reservation=Reservation("r20", "ai", cost_usd=0.000015)))
    assert again.allowed


def test_the_same_admission_sent_again_after_a_failover_is_counted_once():
    env = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="20")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:erin", tier="free")
    request = AdmissionRequest(request_id="same", kind="ai", caller=caller)

    first = asyncio.run(admission.admit(env, None, request, now=1_800_000_000))
    again = asyncio.run(admission.admit(env, None, request, now=1_800_000_000))

    assert first.window.remaining == again.window.remaining == 19
    assert env.KEY_COUNTER.objects["jwt:erin"].windows == {1_800_000_000 - 1_800_000_000 % 60: 1}
