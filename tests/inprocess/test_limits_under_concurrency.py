"""Limits that hold under concurrency: bursts of concurrent requests of one key get exactly the
per-minute limit (slots taken ahead are never lost), and pass an event quota by at most one
request's worth (each request reserves its worst case before its work). The requests of a burst
are all in flight at once in the host's event loop, interleaving at every call between the
workers and at the key's counter (one call at a time, as the Durable Object takes them)."""

import asyncio
from collections import Counter

import httpx

from tests.e2e.conftest import TEST_FREE_EVENTS_PER_DAY
from tests.inprocess.host import ORIGIN, InProcessHost


def burst(host: InProcessHost, key: str, requests: list[tuple[str, str, object]]) -> list[httpx.Response]:
    """Sends every request at once; the answers in order."""
    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=ORIGIN, transport=host.async_transport(), headers={"x-api-key": key}) as client:
            return await asyncio.gather(*(client.request(method, path, json=body) for method, path, body in requests))
    return host.run(send())


def test_rounds_of_a_hundred_concurrent_reads_get_exactly_the_limit(host, new_key, clock):
    key = new_key("pro")["key"]  # 300 a minute: reads take up to 10 slots ahead
    clock.next_minute()

    statuses = []
    for _ in range(4):
        statuses += [r.status_code for r in burst(host, key, [("GET", "/v1/models", None)] * 100)]

    assert statuses.count(200) == 300 and statuses.count(429) == 100


def test_a_burst_of_batches_passes_the_event_quota_by_one_batch_at_most(host, anonymous, new_key, clock):
    key = new_key("free")["key"]  # 5 events a day on the test host
    anonymous.get("/v1/models", headers={"x-api-key": key}).raise_for_status()  # the api knows the key: batches are admitted as it sends them to the queue
    clock.next_minute()

    responses = burst(host, key, [("POST", "/events", [{"type": "view", "name": f"b{b}-{i}"} for i in range(3)]) for b in range(10)])

    admitted = [r for r in responses if r.status_code == 202]
    refused = [r for r in responses if r.status_code == 429]
    assert len(admitted) + len(refused) == 10
    assert {r.json()["error"]["reason"] for r in refused} == {"event_quota"}
    accepted = sum(r.json()["accepted"] for r in admitted)
    assert TEST_FREE_EVENTS_PER_DAY <= accepted < TEST_FREE_EVENTS_PER_DAY + 3  # over the quota by less than the last batch


def test_concurrent_requests_of_one_key_are_counted_exactly(host, new_key, clock):
    """The key's counter takes one request at a time: 30 at once against a limit of 20 a minute
    let exactly 20 through."""
    key = new_key("free")["key"]
    clock.next_minute()  # all in one window

    statuses = Counter(r.status_code for r in burst(host, key, [("GET", "/v1/models", None)] * 30))

    assert statuses == {200: 20, 429: 10}
