"""Limits that hold under concurrency: bursts of concurrent requests of one key get exactly the
per-minute limit (slots taken ahead are never lost), and pass a daily budget or event quota by
at most one request's worth (each request reserves its worst case before its work)."""

import asyncio
import time

import httpx

from tests.e2e.conftest import TEST_FREE_EVENTS_PER_DAY, TEST_PRO_DAILY_BUDGET_USD


def burst(base_url: str, key: str, requests: list[tuple[str, str, object]]) -> list[httpx.Response]:
    """Sends every request at once; the answers in order."""
    async def send() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
        async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits, headers={"x-api-key": key}) as client:
            return await asyncio.gather(*(client.request(method, path, json=body) for method, path, body in requests))
    return asyncio.run(send())


def one_window(seconds_needed: int) -> None:
    """Waits for a new rate window if this one has less than `seconds_needed` left."""
    if int(time.time()) % 60 > 60 - seconds_needed:
        time.sleep(61 - int(time.time()) % 60)


def test_rounds_of_a_hundred_concurrent_reads_get_exactly_the_limit(base_url, new_key):
    key = new_key("pro")["key"]  # 300 a minute: reads take up to 10 slots ahead
    one_window(40)

    statuses = []
    for _ in range(4):
        statuses += [r.status_code for r in burst(base_url, key, [("GET", "/v1/models", None)] * 100)]

    assert statuses.count(200) == 300 and statuses.count(429) == 100


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


def test_a_burst_of_batches_passes_the_event_quota_by_one_batch_at_most(base_url, new_key):
    key = new_key("free")["key"]  # 5 events a day on the test host
    with httpx.Client(base_url=base_url, timeout=30, headers={"x-api-key": key}) as client:
        client.get("/v1/models").raise_for_status()  # the api knows the key: batches are admitted as it sends them to the queue
    one_window(20)

    responses = burst(base_url, key, [("POST", "/events", [{"type": "view", "name": f"b{b}-{i}"} for i in range(3)]) for b in range(10)])

    admitted = [r for r in responses if r.status_code == 202]
    refused = [r for r in responses if r.status_code == 429]
    assert len(admitted) + len(refused) == 10
    assert {r.json()["error"]["reason"] for r in refused} == {"event_quota"}
    accepted = sum(r.json()["accepted"] for r in admitted)
    assert TEST_FREE_EVENTS_PER_DAY <= accepted < TEST_FREE_EVENTS_PER_DAY + 3  # over the quota by less than the last batch
