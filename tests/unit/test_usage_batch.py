"""A model call's usage, batched per isolate (inference/usage_batch.py): the key's next admission
carries it to the key's counter, or the batch writes it after its wait; D1 takes the calls' rows
in one transaction. The counter is the stand-in of test_admission_counter.py, its calls recorded."""

import asyncio
from typing import Any

import pytest

from inference import admission, usage, usage_batch
from inference.store.records import ModelCallRecord
from shared.contract import AdmissionRequest, Caller
from shared.policy import KeyPolicy
from shared.reservations import Reservation
from shared.rpc import METHODS
from shared.workers_ai import Usage
from tests.fakes import inference_env
from tests.unit.test_admission_counter import CounterStandIn, Namespace


class RecordingNamespace(Namespace):
    """Keeps the name of every method called on its counters (each one a Durable Object call)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.failing: set[str] = set()  # methods that raise, as a call that never reaches the object

    def get(self, object_id: str) -> Any:
        counter, calls, failing = super().get(object_id), self.calls, self.failing

        class Recorded:
            def __getattr__(self, method: str) -> Any:
                async def call(*args: Any) -> Any:
                    calls.append(method)
                    if method in failing:
                        raise RuntimeError("Network connection lost.")
                    return await getattr(counter, method)(*args)
                return call
        return Recorded()

    def counter(self, key_id: str) -> CounterStandIn:
        return self.objects[key_id]


class Ctx:
    """An RPC call's ctx: what it leaves to waitUntil runs when the test says (`done`)."""

    def __init__(self) -> None:
        self.left: list[asyncio.Future] = []

    def waitUntil(self, awaitable: Any) -> None:  # noqa: N802 (the runtime's name)
        self.left.append(asyncio.ensure_future(awaitable))

    async def done(self) -> None:
        while self.left:
            await self.left.pop(0)


@pytest.fixture(autouse=True)
def empty_batch(monkeypatch):
    monkeypatch.setattr(usage_batch, "pending", usage_batch.PendingUsage())


def keyed_env(**variables: str):
    env = inference_env(**{"USAGE_FLUSH_MS": "50", **variables})
    env.KEY_COUNTER = RecordingNamespace()
    return env


def model_call(caller: Caller, prompt: int = 40, completion: int = 60, cost: float = 0.00001) -> ModelCallRecord:
    return ModelCallRecord(caller, "m", "chat", "ok", Usage(prompt, completion), 120, 30, cost_usd=cost)


async def admit(env, caller: Caller, request_id: str):
    return await admission.admit(env, None, AdmissionRequest(request_id=request_id, kind="ai", caller=caller),
                                 reservation=Reservation(request_id, "ai", tokens=1000, cost_usd=0.0001))


async def record(env, ctx: Ctx, call: ModelCallRecord, settles: str) -> None:
    with usage_batch.for_call(ctx):
        await usage.record(env, call, settles=settles)


async def chat(env, ctx: Ctx, caller: Caller, request_id: str, cost: float = 0.00001):
    """A model call admitted, then recorded as its answer ends; its admission."""
    admitted = await admit(env, caller, request_id)
    await record(env, ctx, model_call(caller, cost=cost), settles=request_id)
    return admitted


def test_the_keys_next_admission_carries_the_calls_usage_so_it_finds_its_slot_free_in_one_counter_call():
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_a", tier="pro", policy=KeyPolicy(max_concurrent=1))
    counters = env.KEY_COUNTER

    async def two_chats():
        first = await chat(env, ctx, caller, "r1")
        assert counters.calls == ["count"]  # the answer's end waited for no counter call
        assert env.DB.rows("SELECT COUNT(*) FROM ai_calls") == [(0,)]
        second = await admit(env, caller, "r2")

        assert first.allowed and second.allowed  # one request in flight at a time: the first's slot was freed
        counter = counters.counter("key_batch_a")
        assert (counter.used["requests"], counter.used["prompt_tokens"], counter.used["completion_tokens"]) == (1, 40, 60)
        assert set(counter.ledger.holds) == {"r2"}
        assert counters.calls == ["count", "count"]

        await ctx.done()  # the batch's wait is over: D1 gets the call's rows, the counter nothing more
        assert counters.calls == ["count", "count"]
        assert counter.used["requests"] == 1  # counted once

    asyncio.run(two_chats())

    assert env.DB.rows("SELECT key_id, requests, prompt_tokens, completion_tokens FROM usage_daily") == [("key_batch_a", 1, 40, 60)]
    assert env.DB.rows("SELECT key_id, outcome FROM ai_calls") == [("key_batch_a", "ok")]


def test_without_a_next_admission_the_batch_writes_its_usage_after_its_wait():
    env, ctx = keyed_env(), Ctx()
    callers = [Caller(key_id=f"key_batch_b{i}", tier="pro") for i in range(2)]

    async def three_calls():
        for i, caller in enumerate(callers + callers[:1]):
            await chat(env, ctx, caller, f"r{i}")
        assert env.KEY_COUNTER.calls == ["count", "count", "count"]
        await ctx.done()

    asyncio.run(three_calls())

    # The third admission carried the first call's usage; the batch wrote the rest, one call a key.
    assert env.KEY_COUNTER.calls == ["count", "count", "count", "add", "add"]
    assert [env.KEY_COUNTER.counter(c.key_id).used["requests"] for c in callers] == [2, 1]
    assert all(not env.KEY_COUNTER.counter(c.key_id).ledger.holds for c in callers)
    assert env.DB.rows("SELECT key_id, requests FROM usage_daily ORDER BY key_id") == [("key_batch_b0", 2), ("key_batch_b1", 1)]
    assert len(ctx.left) == 0 and usage_batch.pending.empty()


def test_usage_an_admission_did_not_deliver_is_written_by_the_batch_once():
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_c", tier="pro")

    async def admission_lost():
        await chat(env, ctx, caller, "r1")
        env.KEY_COUNTER.failing.add("count")
        with usage_batch.for_call(ctx), pytest.raises(RuntimeError):
            await admit(env, caller, "r2")
        env.KEY_COUNTER.failing.clear()
        await ctx.done()

    asyncio.run(admission_lost())

    assert env.KEY_COUNTER.calls == ["count", "count", "add"]
    assert env.KEY_COUNTER.counter("key_batch_c").used["requests"] == 1
    assert env.DB.rows("SELECT requests FROM usage_daily") == [(1,)]


def test_an_admission_sent_again_is_answered_as_before_and_the_usage_it_carried_is_counted_once():
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_d", tier="pro")

    async def resent():
        await admit(env, caller, "r1")
        await admit(env, caller, "r2")
        await record(env, ctx, model_call(caller), settles="r1")
        with usage_batch.for_call(ctx):
            again = await admit(env, caller, "r2")  # a failover's resend: the counter answers as before
        await ctx.done()
        return again

    again = asyncio.run(resent())

    assert again.allowed
    assert env.KEY_COUNTER.calls == ["count", "count", "count", "add"]
    counter = env.KEY_COUNTER.counter("key_batch_d")
    assert counter.used["requests"] == 1 and set(counter.ledger.holds) == {"r2"}


def test_a_read_of_usage_finds_the_calls_of_its_isolate_written():
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_e", tier="pro")

    async def chat_then_read():
        await chat(env, ctx, caller, "r1")
        await usage_batch.flushed(env)  # what the service does before a method that reads usage
        assert env.KEY_COUNTER.counter("key_batch_e").used["requests"] == 1
        assert env.DB.rows("SELECT requests FROM usage_daily") == [(1,)]
        await ctx.done()

    asyncio.run(chat_then_read())

    assert env.KEY_COUNTER.calls == ["count", "add"]  # and the scheduled flush found nothing left


def test_the_methods_that_read_usage_are_the_ones_marked_to_flush_first():
    assert {name for name, method in METHODS.items() if method.reads_usage} == {"get_usage", "list_keys", "list_alerts", "get_metrics"}


def test_a_full_batch_is_written_at_once(monkeypatch):
    monkeypatch.setattr(usage_batch, "MAX_PENDING_CALLS", 3)
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_f", tier="pro")

    async def calls():
        for i in range(3):
            await record(env, ctx, model_call(caller), settles=f"r{i}")

    asyncio.run(calls())

    assert env.DB.rows("SELECT requests FROM usage_daily") == [(3,)]
    assert env.KEY_COUNTER.calls == ["add"]


def test_with_no_wait_set_a_calls_usage_is_written_before_its_record_returns():
    env, ctx = keyed_env(USAGE_FLUSH_MS="0"), Ctx()
    caller = Caller(key_id="key_batch_g", tier="pro")

    asyncio.run(record(env, ctx, model_call(caller), settles="r0"))

    assert env.KEY_COUNTER.calls == ["add"] and not ctx.left
    assert env.DB.rows("SELECT requests FROM usage_daily") == [(1,)]


def test_usage_an_admission_carried_raises_the_keys_alerts():
    env, ctx = keyed_env(), Ctx()
    caller = Caller(key_id="key_batch_h", tier="pro", policy=KeyPolicy(budget_usd=1.0, soft_budget_usd=0.00001))

    async def two_chats():
        await chat(env, ctx, caller, "r1", cost=0.00002)
        with usage_batch.for_call(ctx):
            await admit(env, caller, "r2")
        await ctx.done()

    asyncio.run(two_chats())

    assert env.DB.rows("SELECT key_id, kind FROM alerts") == [("key_batch_h", "budget_soft")]
    assert env.KEY_COUNTER.calls == ["count", "count"]
