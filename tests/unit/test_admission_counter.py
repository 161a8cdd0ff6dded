"""Admission with a key counter bound (KEY_COUNTER, inference/counter.py): the request is counted
by the counter, and D1 takes no write for it. The counter here is a stand-in with the object's
contract (count / peek / add over JSON text); the object itself runs in the e2e tests on workerd."""

import asyncio
import json

from inference import access
from inference.settings import settings_of
from shared.contract import AdmissionRequest, Caller
from shared.leases import Leases
from tests.fakes import inference_env


class CounterStandIn:
    def __init__(self) -> None:
        self.windows: dict[int, int] = {}
        self.used = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0, "events": 0, "cost_usd": 0.0}

    async def count(self, key_id: str, window_start: int, day: str, reserve: int = 1, limit: int = 0) -> str:
        taken = access.slots_to_take(self.windows.get(window_start, 0), reserve, limit)
        self.windows[window_start] = self.windows.get(window_start, 0) + taken
        return json.dumps({"count": self.windows[window_start], "taken": taken, "used": self.used})

    async def peek(self, key_id: str, window_start: int, day: str) -> str:
        return json.dumps({"count": self.windows.get(window_start, 0), "used": self.used})

    async def add(self, key_id: str, day: str, delta: str) -> None:
        for name, value in json.loads(delta).items():
            self.used[name] += value


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
        return [await access.admit(env, None, AdmissionRequest(request_id=f"r{i}", kind="read", caller=caller), now=1_800_000_000)
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

    result = asyncio.run(access.admit(env, None, AdmissionRequest(request_id="r", kind="ai", caller=caller)))

    assert (result.allowed, result.reason) == (False, "budget")


def test_a_read_takes_the_slots_it_asks_for_only_while_they_fit_under_the_limit():
    env = inference_env(TIER_FREE_REQUESTS_PER_MINUTE="12")
    env.KEY_COUNTER = Namespace()
    caller = Caller(key_id="jwt:carol", tier="free")

    async def reads():
        return [await access.admit(env, None, AdmissionRequest(request_id=f"r{i}", kind="read", caller=caller, reserve=5),
                                   now=1_800_000_000) for i in range(4)]

    results = asyncio.run(reads())

    # 5 slots, 5 more, the last 2, then a refusal that still counts.
    assert [(r.allowed, r.granted) for r in results] == [(True, 5), (True, 5), (True, 2), (False, 0)]
    assert [r.window.remaining for r in results[:3]] == [11, 6, 1]  # as each request leaves it: its leased slots still count as left
    assert env.KEY_COUNTER.objects["jwt:carol"].windows == {1_800_000_000 - 1_800_000_000 % 60: 13}


def test_slots_taken_never_pass_the_limit_and_a_request_always_counts():
    assert [access.slots_to_take(current, 10, 12) for current in (0, 2, 5, 11, 12, 20)] == [10, 10, 7, 1, 1, 1]
    assert access.slots_to_take(3, 10, 0) == 1


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
    """Batches admitted as the api admits them (shared/leases.py, api/auth.py): from a slot its
    isolate holds, else by the counter through access.admit (an RPC in the workers)."""
    limit = settings_of(env).limits_for(caller.tier).requests_per_minute

    async def admit_all():
        results = []
        for i, size in enumerate(sizes):
            async def ask(reserve: int, i=i):
                request = AdmissionRequest(request_id=f"b{i}", kind="events", caller=caller, reserve=reserve)
                return await access.admit(env, None, request, now=now)
            result = await leases.admit(caller.key_id, now, ask, verified=True, limit=limit, lease_size=10)
            if result.allowed:
                leases.spend_events(caller.key_id, size)  # api/ingestion.py, once the batch is validated
            results.append(result)
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


def test_a_batch_from_slots_taken_ahead_sees_the_events_admitted_here_since():
    env = inference_env(TIER_PRO_EVENTS_PER_DAY="1000")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_b", tier="pro")
    env.KEY_COUNTER.get("key_lease_b").used["events"] = 700

    leases = Leases()
    results = batches(env, caller, [100, 100, 100, 100, 100], leases)

    assert all(r.allowed for r in results)
    # 1: one slot; 2: ten slots, 200 events left after it; 3 and 4 from those slots; 4 spent the
    # last of the quota as this isolate knows it, so 5 asks the counter again.
    assert env.KEY_COUNTER.calls == 3
    # The 5th left 200 events of the quota as this isolate knows it (700 indexed, its own 100). What
    # other isolates admit since is not seen here: at most those 200 more, until the slots or the window end.
    env.KEY_COUNTER.get("key_lease_b").used["events"] = 1000
    after = batches(env, caller, [100, 100, 100], leases)
    assert [(r.allowed, r.reason) for r in after] == [(True, None), (True, None), (False, "event_quota")]


def test_a_used_up_event_quota_is_refused_and_takes_no_slots_ahead():
    env = inference_env(TIER_PRO_EVENTS_PER_DAY="1000")
    env.KEY_COUNTER = CountingNamespace()
    caller = Caller(key_id="key_lease_c", tier="pro")
    env.KEY_COUNTER.get("key_lease_c").used["events"] = 1000

    results = batches(env, caller, [10] * 4, Leases())

    assert [r.reason for r in results] == ["event_quota"] * 4
    assert env.KEY_COUNTER.calls == 4
    assert env.KEY_COUNTER.objects["key_lease_c"].windows == {1_800_000_000 - 1_800_000_000 % 60: 4}  # one slot each, none ahead
