"""`make bench`'s memory section: each Python worker's isolate memory (scripts/isolate_memory.py)
on a workerd host started for it, after start (the first request answered), after 1,000 mixed
requests (chat streams, completions, event batches, GraphQL, embeddings, models), and at the peak
of 200 concurrent /stream/chat streams (as `make load` sends them); beside the floor: a bare Python
worker (bench/python) after its first answer. Then the same 200 streams on a host whose model's
stream comes over fetch from another isolate (the external provider's way: scripts/bench.py
`provider_host`), as Workers AI's does on Cloudflare: locally the binding's stand-in generates in
the inference worker's own isolate, whose objects then count there.

    .venv/bin/python scripts/memory_bench.py [--mixed 1000] [--streams 200]
"""

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.bench import PYTHON_FLOORS, create_key, provider_host  # noqa: E402
from scripts.isolate_memory import IsolateMemory, IsolateReader, PeakSampler, table  # noqa: E402
from scripts.load import one_stream  # noqa: E402
from scripts.localhost import CONFIGS, UNLIMITED_ENTERPRISE, LocalHost, scratch_state  # noqa: E402

ADMIN_TOKEN = "memory-admin-token"
SENDERS = 8  # the mixed requests' concurrency: a busy isolate's, and quick on two cores
MIXED_REQUESTS = 1000
FLOOR_WORKER = "bench-python-floor"
STREAMS = 200  # as `make load` sends them


def mixed_request(run: str, n: int) -> tuple[str, str, dict | None]:
    """The n-th of the mixed requests: (method, path, JSON body); each distinct, as traffic's are."""
    words = f"request {n} of run {run}"
    kinds = [
        ("POST", "/stream/chat", {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": f"About {words}"}]}]}),
        ("POST", "/v1/chat/completions", {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": f"Hello, {words}"}]}),
        ("POST", "/events", {"events": [{"id": f"{run}-{n}-{i}", "type": "memory", "component": f"C{i % 5}"} for i in range(20)]}),
        ("POST", "/graphql", {"query": f"{{ models {{ id }} }} # {words}"}),
        ("POST", "/v1/embeddings", {"model": "@cf/baai/bge-base-en-v1.5", "input": [f"{words}, text {i}" for i in range(10)]}),
        ("GET", "/v1/models", None),
    ]
    return kinds[n % len(kinds)]


async def mixed(url: str, key: str, count: int) -> None:
    run = uuid.uuid4().hex[:8]
    queue = iter(range(count))
    limits = httpx.Limits(max_connections=SENDERS)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers={"authorization": f"Bearer {key}"}) as client:
        async def sender() -> None:
            for n in queue:
                method, path, body = mixed_request(run, n)
                response = await client.request(method, path, json=body)
                if response.status_code >= 400:
                    raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text[:200]}")
        await asyncio.gather(*(sender() for _ in range(SENDERS)))


async def concurrent_streams(url: str, key: str, streams: int) -> None:
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers={"authorization": f"Bearer {key}"}) as client:
        await asyncio.gather(*(one_stream(client) for _ in range(streams)))


def floor() -> dict[str, IsolateMemory]:
    """The bare Python worker's isolate (its RPC peer's left out) after its first answer."""
    with scratch_state() as state, LocalHost(PYTHON_FLOORS, Path(state), memory=True) as host, \
            IsolateReader(host.url, host.inspector_port) as reader:
        httpx.get(host.url, timeout=60).raise_for_status()
        return {name: memory for name, memory in reader.read().items() if name == FLOOR_WORKER}


def measure(mixed_count: int, streams: int) -> list[str]:
    stages: list[tuple[str, dict[str, IsolateMemory], dict[str, int] | None]] = [("a bare Python worker (the floor)", floor(), None)]
    with scratch_state() as state, \
            LocalHost(CONFIGS, Path(state), variables={"ADMIN_TOKEN": ADMIN_TOKEN, **UNLIMITED_ENTERPRISE}, memory=True) as host, \
            IsolateReader(host.url, host.inspector_port) as reader:
        key = create_key(host.url, ADMIN_TOKEN)
        stages.append(("after start (/health and a key made)", reader.read(), None))
        asyncio.run(mixed(host.url, key, mixed_count))
        stages.append((f"after {mixed_count:,} mixed requests", reader.read(), None))
        with PeakSampler(reader) as sampler:
            asyncio.run(concurrent_streams(host.url, key, streams))
        stages.append((f"peak of {streams} concurrent /stream/chat ({sampler.samples} samples)", sampler.peak, sampler.total_peak))
    with scratch_state() as state, provider_host(Path(state), {"ADMIN_TOKEN": ADMIN_TOKEN, **UNLIMITED_ENTERPRISE}, memory=True) as host, \
            IsolateReader(host.url, host.inspector_port) as reader:
        key = create_key(host.url, ADMIN_TOKEN)
        asyncio.run(concurrent_streams(host.url, key, 20))  # both workers' first streams, as `mixed` gave the host above
        with PeakSampler(reader) as sampler:
            asyncio.run(concurrent_streams(host.url, key, streams))
        stages.append((f"peak of {streams} concurrent /stream/chat, the model's stream fetched from another isolate "
                       f"({sampler.samples} samples)", sampler.peak, sampler.total_peak))
    return table(stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixed", type=int, default=MIXED_REQUESTS)
    parser.add_argument("--streams", type=int, default=STREAMS)
    args = parser.parse_args()
    print("\n".join(measure(args.mixed, args.streams)))


if __name__ == "__main__":
    main()
