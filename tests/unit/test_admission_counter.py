"""Admission with a key counter bound (KEY_COUNTER, inference/counter.py): the request is counted
by the counter, and D1 takes no write for it. The counter here is a stand-in with the object's
contract (count / peek / add over JSON text); the object itself runs in the e2e tests on workerd."""

import asyncio
import json

from inference import access
from shared.contract import AdmissionRequest, Caller
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
