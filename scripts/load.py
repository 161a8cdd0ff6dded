"""`make load`: concurrent load against a workerd host started for the run (or E2E_BASE_URL with
E2E_ADMIN_TOKEN): 200 concurrent /stream/chat streams, then 50 concurrent 100-event batches.
Prints errors, latency (p50/p95), each Python worker's isolate memory before, at the peak of the
streams and after (on the host started here: scripts/isolate_memory.py; docs/benchmarks.md says
what counts), and whether every accepted event can be counted back; exits 1 on any error or lost
event. Then bursts against
limits (pro keys; the host started here gives the pro tier a $0.00002 daily budget and 150 events
a day): 4 rounds of 100 concurrent reads against 300 a minute, 20 concurrent chats and 10
concurrent document uploads against the budget, 20 concurrent 100-event batches against the event
quota; prints what got through past each limit, and exits 1 if that is more than one request's worth.

    make load                                   # ARGS="--streams 200 --batches 50"
    make load ARGS="--sustain 20"               # the scale paths at the highest rate this machine holds
    make load ARGS="--limits"                   # the bursts against limits only

`--sustain S` runs, for S seconds each, as many concurrent senders as `--senders` (default 16):
100-event batches (the rate the api answers 202 at: R2 put + queue send, and the rate the queue
consumer indexes them at: D1), then admission alone (GET /v1/models: the key's counter, one
Durable Object call), one key and then one key per sender (the counter serializes one key's
requests; different keys spread over objects). docs/capacity.md reads its numbers.
"""

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.bench import percentile, process_tree  # noqa: E402
from scripts.isolate_memory import IsolateReader, PeakSampler, describe  # noqa: E402
from scripts.localhost import UNLIMITED_ENTERPRISE, LocalHost, script_target  # noqa: E402

ADMIN_TOKEN = "load-admin-token"
LIMITS = {"TIER_PRO_DAILY_BUDGET_USD": "0.00002", "TIER_PRO_EVENTS_PER_DAY": "150"}  # the bursts' tiny budget and small quota
VARIABLES = {"JWT_SECRET": "load-jwt-secret", **UNLIMITED_ENTERPRISE, **LIMITS}
CHAT = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "Tell me about load " * 5}]}]}


def rss_mib(root: int | None) -> str:
    if root is None:
        return "n/a (remote)"
    total = 0
    for pid in process_tree(root):
        try:
            total += next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return f"{total / 1024:.0f} MiB"


def print_memory(stage: str, reader: IsolateReader | None, host_pid: int | None) -> None:
    """Each Python worker's isolate memory (on a host started here), and the host's processes' RSS."""
    print(f"memory {stage}: host processes' RSS {rss_mib(host_pid)}")
    for worker, memory in sorted(reader.read().items()) if reader is not None else ():
        print(f"  {describe(worker, memory)}")


def spread(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):.0f} ms, p95 {percentile(samples, 0.95):.0f} ms" if samples else "no samples"


async def one_stream(client: httpx.AsyncClient) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    async with client.stream("POST", "/stream/chat", json=CHAT) as response:
        body = b""
        async for chunk in response.aiter_raw():
            first = first or time.perf_counter() - started
            body += chunk
    if response.status_code != 200 or b'"type":"finish"' not in body:
        raise RuntimeError(f"stream answered {response.status_code}: {body[-200:]!r}")
    return first * 1000, (time.perf_counter() - started) * 1000


async def one_batch(client: httpx.AsyncClient, run: str, index: int) -> float:
    events = [{"id": f"{run}-{index}-{i}", "type": "load", "component": f"C{i % 5}"} for i in range(100)]
    started = time.perf_counter()
    response = await client.post("/events", json={"events": events})
    if response.status_code != 202 or response.json()["accepted"] != 100:
        raise RuntimeError(f"batch answered {response.status_code}: {response.text[:200]}")
    return (time.perf_counter() - started) * 1000


async def gather_outcomes(tasks: list) -> tuple[list, list[str]]:
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return [r for r in results if not isinstance(r, BaseException)], [repr(r) for r in results if isinstance(r, BaseException)]


async def counted_events(client: httpx.AsyncClient, since: datetime) -> int:
    query = ("query($r: TimeRange!) { eventMetrics(metric: EVENTS_BY_TYPE, range: $r, bucket: DAY, filter: {type: \"load\"}) "
             "{ totals { value } } }")
    rng = {"from": since.isoformat().replace("+00:00", "Z"), "to": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    body = (await client.post("/graphql", json={"query": query, "variables": {"r": rng}})).json()
    return int(sum(t["value"] for t in body["data"]["eventMetrics"]["totals"]))


async def load(url: str, admin_token: str, streams: int, batches: int, host: LocalHost | None) -> int:
    host_pid = host.process.pid if host is not None else None
    reader = IsolateReader(url, host.inspector_port) if host is not None else None
    created = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": 'mutation { createApiKey(name: "load", tier: ENTERPRISE) { key } }'}).json()
    key = created["data"]["createApiKey"]["key"]
    limits = httpx.Limits(max_connections=streams + batches, max_keepalive_connections=streams + batches)
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers={"authorization": f"Bearer {key}"}) as client:
        await one_stream(client)  # warm-up: imports and caches of both workers
        print_memory("before", reader, host_pid)
        started = time.perf_counter()
        with PeakSampler(reader) if reader is not None else contextlib.nullcontext() as sampler:
            done, failed = await gather_outcomes([one_stream(client) for _ in range(streams)])
        took = time.perf_counter() - started
        errors += failed
        print(f"{streams} concurrent /stream/chat: {len(done)} ok, {len(failed)} errors in {took:.1f} s; "
              f"first byte {spread([d[0] for d in done])}; whole stream {spread([d[1] for d in done])}")
        if sampler is not None:
            print(f"memory at the peak of the streams (the largest of {sampler.samples} samples of each part; total: the largest sum):")
            for worker, peak in sorted(sampler.peak.items()):
                print(f"  {describe(worker, peak, sampler.total_peak[worker])}")
        print_memory("after the streams", reader, host_pid)

        since = datetime.now(UTC).replace(microsecond=0)
        run = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        done, failed = await gather_outcomes([one_batch(client, run, i) for i in range(batches)])
        took = time.perf_counter() - started
        errors += failed
        print(f"{batches} concurrent 100-event batches: {len(done)} ok, {len(failed)} errors in {took:.1f} s; {spread(done)}")
        # Batches are indexed by the queue consumer after the 202: count until all are in, or 60 s.
        expected = len(done) * 100
        deadline = time.perf_counter() + 60
        while (counted := await counted_events(client, since)) < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
        lost = expected - counted
        print(f"events accepted {expected}, counted back by eventMetrics {counted} ({time.perf_counter() - started:.1f} s after "
              f"the first was sent): {lost} lost")
        print_memory("after the batches", reader, host_pid)
    if reader is not None:
        reader.close()
    for error in errors[:10]:
        print(f"  error: {error}")
    within = await limit_bursts(url, admin_token)
    return 0 if not errors and lost == 0 and within else 1


async def limit_bursts(url: str, admin_token: str) -> bool:
    """Concurrent bursts against a per-minute limit, a daily budget and an event quota, each with a
    new pro key; True if none got more than one request's worth past its limit."""
    def new_key(name: str) -> str:
        created = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
            "query": f'mutation {{ createApiKey(name: "{name}", tier: PRO) {{ key }} }}'}).json()
        return created["data"]["createApiKey"]["key"]

    async def burst(client: httpx.AsyncClient, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
        return await asyncio.gather(*(client.request(method, path, **options) for method, path, options in requests))

    def client_of(key: str, connections: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers={"authorization": f"Bearer {key}"})

    chat = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "Tell me about limits"}]}
    document = {"title": "load", "text": "A sentence about limits. " * 8000}
    within = True
    async with client_of(new_key("burst-reads"), 100) as client:
        if int(time.time()) % 60 > 30:  # the rounds in one window
            await asyncio.sleep(61 - int(time.time()) % 60)
        responses = []
        for _ in range(4):
            responses += await burst(client, [("GET", "/v1/models", {})] * 100)
        limit, admitted = int(responses[0].headers["x-ratelimit-limit"]), sum(r.status_code == 200 for r in responses)
        within &= admitted <= limit
        print(f"limits: 4 rounds of 100 concurrent reads against {limit} a minute: {admitted} admitted ({admitted - limit:+d})")

    for label, path, options, count in (
            ("chats", "/v1/chat/completions", {"json": chat}, 20), ("document uploads", "/v1/documents", {"json": document}, 10)):
        async with client_of(new_key(f"burst-{path.rsplit('/', 1)[-1]}"), count) as client:
            responses = await burst(client, [("POST", path, options)] * count)
            ok = [r for r in responses if r.status_code in (200, 201)]
            if unexpected := [r for r in responses if r.status_code not in (200, 201, 429)]:
                within = False
                print(f"  error: {label} answered {unexpected[0].status_code}: {unexpected[0].text[:200]}")
            usage = (await client.get("/v1/usage")).json()  # recorded before each answer
            budget, spent = usage["limits"]["daily_budget_usd"], usage["cost_usd"]
            one = spent / max(1, len(ok))
            over = spent - budget
            within &= over <= one
            print(f"limits: {count} concurrent {label} against a ${budget:g} daily budget: {len(ok)} admitted, "
                  f"{sum(r.status_code == 429 for r in responses)} refused; spent ${spent:.8f}: {spent / budget:.2f}x the budget, "
                  f"over it by {max(0.0, over) / one if one else 0:.2f} of one request's cost")

    async with client_of(new_key("burst-events"), 20) as client:
        quota = (await client.get("/v1/usage")).json()["limits"]["events_per_day"]
        run = uuid.uuid4().hex[:8]
        batches = [("POST", "/events", {"json": [{"id": f"{run}-{b}-{i}", "type": "burst"} for i in range(100)]}) for b in range(20)]
        responses = await burst(client, batches)
        accepted = sum(r.json()["accepted"] for r in responses if r.status_code == 202)
        over = accepted - quota
        within &= over < 100
        print(f"limits: 20 concurrent 100-event batches against {quota} events a day: "
              f"{sum(r.status_code == 202 for r in responses)} admitted, {accepted} events, {over:+d} past the quota "
              f"({max(0, over) / 100:.2f} of one batch)")
    return within


async def sustained(url: str, admin_token: str, seconds: float, senders: int) -> int:
    def new_key(name: str) -> str:
        created = httpx.post(f"{url}/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
            "query": f'mutation {{ createApiKey(name: "{name}", tier: ENTERPRISE) {{ key }} }}'}).json()
        return created["data"]["createApiKey"]["key"]

    limits = httpx.Limits(max_connections=senders * 2, max_keepalive_connections=senders * 2)
    keys = [new_key(f"sustain-{i}") for i in range(senders)]
    errors = 0

    async def loop(client: httpx.AsyncClient, step, until: float) -> list[float]:
        nonlocal errors
        samples = []
        while time.perf_counter() < until:
            started = time.perf_counter()
            try:
                await step(client, len(samples))
                samples.append((time.perf_counter() - started) * 1000)
            except Exception as exc:  # counted, the run goes on
                errors += 1
                if errors <= 5:
                    print(f"  error: {exc!r}")
        return samples

    async def run(step, key_of) -> tuple[int, float, list[float]]:
        clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers={"authorization": f"Bearer {key_of(i)}"})
                   for i in range(senders)]
        started = time.perf_counter()
        results = await asyncio.gather(*(loop(client, step, started + seconds) for client in clients))
        took = time.perf_counter() - started
        for client in clients:
            await client.aclose()
        samples = [s for result in results for s in result]
        return len(samples), took, samples

    run_id = uuid.uuid4().hex[:8]
    since = datetime.now(UTC).replace(microsecond=0)

    async def batch(client: httpx.AsyncClient, n: int) -> None:
        events = [{"id": f"{run_id}-{id(client)}-{n}-{i}", "type": "load", "component": f"C{i % 5}"} for i in range(100)]
        response = await client.post("/events", json={"events": events})
        if response.status_code != 202:
            raise RuntimeError(f"batch answered {response.status_code}: {response.text[:200]}")

    count, took, samples = await run(batch, lambda i: keys[0])
    accepted_at = time.perf_counter()
    print(f"events: {senders} senders for {took:.1f} s: {count} batches answered 202, {count * 100 / took:.0f} events/s; "
          f"a batch {spread(samples)}")
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"authorization": f"Bearer {keys[0]}"}) as client:
        deadline = time.perf_counter() + 300
        while (counted := await counted_events(client, since)) < count * 100 and time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
    indexed_in = time.perf_counter() - accepted_at + took
    print(f"events: all {counted} of {count * 100} indexed {indexed_in:.1f} s after the first was sent: "
          f"{counted / indexed_in:.0f} events/s through the queue consumer into D1; {count * 100 - counted} lost")
    lost = count * 100 - counted

    async def admit(client: httpx.AsyncClient, n: int) -> None:
        response = await client.get("/v1/models")
        if response.status_code != 200:
            raise RuntimeError(f"/v1/models answered {response.status_code}")

    for label, key_of in (("one key", lambda i: keys[0]), (f"{senders} keys", lambda i: keys[i])):
        count, took, samples = await run(admit, key_of)
        print(f"admission ({label}): {senders} senders for {took:.1f} s: {count / took:.0f} requests/s; a request {spread(samples)}")
    print(f"errors: {errors}")
    return 0 if not errors and not lost else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--sustain", type=float, metavar="SECONDS", help="run the sustained-rate scenario instead")
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--limits", action="store_true", help="run the bursts against limits only")
    args = parser.parse_args()
    with script_target(ADMIN_TOKEN, VARIABLES, memory=True) as (url, token, host):
        if args.limits:
            sys.exit(0 if asyncio.run(limit_bursts(url, token)) else 1)
        if args.sustain:
            sys.exit(asyncio.run(sustained(url, token, args.sustain, args.senders)))
        sys.exit(asyncio.run(load(url, token, args.streams, args.batches, host)))


if __name__ == "__main__":
    main()
