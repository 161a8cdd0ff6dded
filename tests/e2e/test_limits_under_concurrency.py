"""Limits that hold under concurrency on the runtime: concurrent chats routed to the external
provider pass a daily budget by at most one chat (each request reserves its worst case before
its work). The other bursts run in process (tests/inprocess/test_limits_under_concurrency.py)."""

import asyncio
import time

import httpx

from tests.e2e.conftest import TEST_PRO_DAILY_BUDGET_USD


def burst(base_url: str, key: str, requests: list[tuple[str, str, object]]) -> list[httpx.Response]:
    """Sends every request at once; the answers in order."""
    async def send() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits, headers={"x-api-key": key}) as client:
            return await asyncio.gather(*(client.request(method, path, json=body) for method, path, body in requests))
    return asyncio.run(send())


def test_concurrent_chats_pass_a_daily_budget_by_one_chat_at_most(base_url, new_key, ai):
    key = new_key("pro")["key"]  # the provider's prices: a few chats spend the pro tier's budget
    chat = {"model": "mistral-small-3.1", "complexity": "high", "messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "spend"}]}]}

    responses = burst(base_url, key, [("POST", "/stream/chat", chat)] * 20)

    answered = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert answered and len(answered) + len(refused) == 20
    assert {r.json()["error"]["reason"] for r in refused} == {"budget"}
    with httpx.Client(base_url=base_url, timeout=30, headers={"x-api-key": key}) as client:
        deadline = time.monotonic() + 10
        while (usage := client.get("/v1/usage").json())["requests"] < len(answered):  # recorded as each stream ends
            assert time.monotonic() < deadline, "usage was never recorded"
            time.sleep(0.1)
    one_chat = usage["cost_usd"] / len(answered)
    assert usage["cost_usd"] - one_chat < TEST_PRO_DAILY_BUDGET_USD  # over the budget by the last chat admitted at most
