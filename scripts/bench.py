"""Benchmarks against local hosts started for the run (each with its own state folder and port).

    make bench                              # or: .venv/bin/python scripts/bench.py --requests 50

Prints Markdown tables; docs/benchmarks.md (and the README's summary) copy them:
- per route on the real workerd: CPU and wall time per request (median, p95) beside the floors
  measured in the same run (bench/python: a bare Python worker, and one that also makes one RPC
  to a second Python worker; bench/js: a bare JavaScript worker) and a JavaScript worker
  making the same binding calls as the route. CPU is the host's workerd process (it runs the
  workers, the local binding simulators and the AI stand-in; not miniflare's Node process, which
  prints log lines), read from each thread's /proc schedstat (ns) before and after each of N
  sequential requests; work a request leaves to waitUntil lands in the next. Relay cost per token: a 411-token answer minus a 1-token answer
  to the same prompt, less what the AI stand-in spends streaming the same tokens by itself.
- all in: a 100-event batch with its share of the queue consumer's work, and a 1-token chat with
  its records (which ours batches), each over N in a row after N unmeasured, ours and JS.
- a 1-token answer's end after its first byte, per streamed protocol (through the external
  provider's path, whose chunks come apart).
- on workerd: start-up, time to first byte, event throughput, analytics; a cached answer with the
  Cache API in front of KV and with KV alone, and what the semantic cache costs a request.
- the semantic cache's hit and false-hit rates on bench/paraphrases.json (scripts/semantic_cache_bench.py;
  `--semantic-only` runs it alone; `--cache-only` the cache rows alone).
- each Python worker's isolate memory after start, after 1,000 mixed requests and at the peak of
  200 concurrent streams (scripts/memory_bench.py; `--memory-only` runs it alone).
- cold starts (scripts/snapshots.py; `--cold-only` runs this section alone): spawn of workerd to
  first answer with no snapshot, a baseline snapshot and a dedicated one (saved as Cloudflare's
  validator saves it), median of --spawns starts, for the bare Python worker (the floor), the api
  alone (its inference peer up in its own process), the inference worker alone (timed through a
  running api's /health, which calls its RPC health) and the pair (both spawned at once); the
  snapshots' sizes; then, in a fresh pair restored from dedicated snapshots, the first request of
  each route against its warm median (one fresh pair per route).
These are local numbers on this machine, not Cloudflare's.
"""

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import semantic_cache_bench, snapshots  # noqa: E402
from scripts.localhost import PROJECT_ROOT, LocalHost, free_port, scratch_state  # noqa: E402
from shared import jwt  # noqa: E402

CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
BASELINES = PROJECT_ROOT / "bench"
PYTHON_FLOORS = [BASELINES / "python" / "wrangler.toml", BASELINES / "python" / "peer" / "wrangler.toml"]
ADMIN_TOKEN = "bench-admin-token"
JWT_SECRET = "bench-jwt-secret"
MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
LONG_PROMPT = " ".join(f"word{i}" for i in range(400))  # the stand-in echoes it: ~410 tokens


def process_tree(root: int) -> list[int]:
    pids = [root]
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                pids += [int(child) for child in (task / "children").read_text().split()]
            except OSError:  # a thread that just ended
                pass
    return pids


def is_workerd(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "workerd"
    except OSError:  # a process that just ended
        return False


def cpu_ns(root: int) -> int:
    """CPU time so far of every thread of the host's workerd processes, in ns (schedstat's first
    field): the workers, the local binding simulators and the AI stand-in all run there. Not the
    host's Node process (miniflare): it prints each request's line and relays the workers' log
    lines, work that leaves the worker on Cloudflare (console.log is the worker's share, and is
    counted)."""
    total = 0
    for pid in filter(is_workerd, process_tree(root)):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except OSError:
                pass
    return total


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float], unit: str = "ms", digits: int = 1) -> str:
    return f"{statistics.median(samples):.{digits}f} {unit} (p95 {percentile(samples, 0.95):.{digits}f})"


def timed_get(client: httpx.Client, path: str, count: int, headers: dict | None = None) -> list[float]:
    client.get(path, headers=headers).raise_for_status()  # warm-up
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path, headers=headers).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timed_post_graphql(client: httpx.Client, count: int, token: str | None = None) -> list[float]:
    headers = {"authorization": f"Bearer {token}"} if token else None
    body = {"query": "{ models { id } }"}
    client.post("/graphql", json=body, headers=headers).raise_for_status()  # warm-up: imports graphql-core
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.post("/graphql", json=body, headers=headers).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timed_stream(client: httpx.Client, path: str, body: dict) -> tuple[float, float, int]:
    """Time to the first body byte, time to the last one, and the bytes received."""
    started = time.perf_counter()
    first = 0.0
    size = 0
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            if not first:
                first = time.perf_counter() - started
            size += len(chunk)
    return first * 1000, (time.perf_counter() - started) * 1000, size


def streams(client: httpx.Client, path: str, body: dict, count: int) -> tuple[list[float], list[float]]:
    timed_stream(client, path, body)  # warm-up
    runs = [timed_stream(client, path, body) for _ in range(count)]
    return [r[0] for r in runs], [r[1] for r in runs]


def chat_body(text: str) -> dict:
    return {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": text}]}], "maxOutputTokens": 1000}


def direct_body(text: str) -> dict:
    return {"model": MODEL, "inputs": {"messages": [{"role": "user", "content": text}], "max_tokens": 1000, "stream": True}}


def event_batch(offset: int) -> list[dict]:
    now_ms = int(time.time() * 1000)
    return [{"type": ["view", "click", "error"][i % 3], "component": f"C{i % 7}",
             "timestamp": now_ms - (offset * 100 + i) * 1000, "properties": {"i": i}} for i in range(100)]


def stream_send(body: dict, path: str = "/stream/chat"):
    """send(client, i): POSTs `body` and reads the streamed answer to its end."""
    def send(client: httpx.Client, _i: int) -> None:
        with client.stream("POST", path, json=body) as response:
            response.raise_for_status()
            for _ in response.iter_raw():
                pass
    return send


def long_chat(max_tokens: int) -> dict:
    return {**chat_body(LONG_PROMPT), "maxOutputTokens": max_tokens}


# The stand-in echoes the prompt: the same prompt answered in 1 token and in all of its ~411.
ONE_TOKEN, ALL_TOKENS = long_chat(1), long_chat(1000)
REPLY_TOKENS = len(f"You said: {LONG_PROMPT} (a deterministic reply from the local stand-in for {MODEL})".split())


def direct_send(max_tokens: int):
    """The AI stand-in streaming straight to the client (no worker of ours): the model's own cost."""
    body = {**direct_body(LONG_PROMPT), "inputs": {**direct_body(LONG_PROMPT)["inputs"], "max_tokens": max_tokens}}
    return stream_send(body, "/__devhost/ai/run")


MODEL_ALONE = [("model alone, 1 token", direct_send(1)), ("model alone, all tokens", direct_send(1000))]


EMBEDDINGS = {"model": "@cf/baai/bge-base-en-v1.5", "input": [f"text number {n} about something" for n in range(100)]}


# A tool round trip through useChat: the model (one that streams its calls) calls the tool, then
# answers from the tool's output sent back in the conversation.
STREAMING_TOOL_MODEL = "@cf/meta/llama-4-scout-17b-16e-instruct"
UI_WEATHER_TOOL = {"weather": {"description": "The weather in a city",
                               "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
UI_QUESTION = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "What is the weather in Paris?"}]}
UI_TOOL_OUTPUT = {"id": "a1", "role": "assistant", "parts": [{"type": "step-start"}, {
    "type": "tool-weather", "toolCallId": "c1", "state": "output-available", "input": {"city": "Paris"}, "output": "21C, sunny"}]}
TOOL_CALL_CHAT = {"model": STREAMING_TOOL_MODEL, "tools": UI_WEATHER_TOOL, "messages": [UI_QUESTION], "maxOutputTokens": 64}
TOOL_RESULT_CHAT = {**TOOL_CALL_CHAT, "messages": [UI_QUESTION, UI_TOOL_OUTPUT]}


def route_requests() -> list[tuple[str, object]]:
    """(label, send(client, i)) for the per-route table; each send reads the whole answer. The JS
    baseline worker (bench/js) answers the same paths with the same binding calls."""
    return [
        ("GET /health", lambda c, _i: c.get("/health").raise_for_status()),
        ("GET /v1/models", lambda c, _i: c.get("/v1/models").raise_for_status()),
        ("POST /graphql { models } with a key", lambda c, _i: c.post("/graphql", json={"query": "{ models { id } }"}).raise_for_status()),
        ("POST /events, a 100-event batch", lambda c, i: c.post("/events", json=event_batch(1000 + i)).raise_for_status()),
        ("POST /v1/embeddings, 100 texts", lambda c, _i: c.post("/v1/embeddings", json=EMBEDDINGS).raise_for_status()),
        ("POST /stream/chat, a 1-token answer", stream_send(ONE_TOKEN)),
        (f"POST /stream/chat, a {REPLY_TOKENS}-token answer", stream_send(ALL_TOKENS)),
        # The JavaScript worker answers these as a chat (the same binding calls: admission, the
        # model, the records); ours also offers the tool and reads the conversation's tool parts.
        ("POST /stream/chat, the model calls a tool", stream_send(TOOL_CALL_CHAT)),
        ("POST /stream/chat, the tool's output sent back, the model answers", stream_send(TOOL_RESULT_CHAT)),
    ]


def cpu_and_wall(host: LocalHost, client: httpx.Client, send, i: int) -> tuple[float, float]:
    before, started = cpu_ns(host.process.pid), time.perf_counter()
    send(client, i)
    return (cpu_ns(host.process.pid) - before) / 1e6, (time.perf_counter() - started) * 1000


Samples = dict[str, tuple[list[float], list[float]]]  # label -> (CPU ms, wall ms) per request
Plan = list[tuple[list[Path], list[tuple[str, object]], bool]]  # (configs, sends, with a key) per host


def rotated(items: list, by: int) -> list:
    by %= len(items)
    return items[by:] + items[:by]


def measured(plan: Plan, n: int, ai_knobs: dict | None = None, primed: bool = False) -> list[Samples]:
    """Each host's sends, N times, in rounds that take one request of every send on every host in
    turn: a machine whose speed drifts during the run (a shared VM's does) slows every column
    alike, so the columns compare. The first request on a host after another host's turn costs
    more (up to ~0.5 ms: caches the other process filled; one route sent under three names shows
    it), so each round starts one send further on, and `primed` rounds send each host's first
    send once, unmeasured, before its turn: no measured request pays for the switch (a host of
    two sends would pay for it in half of its samples, one of ten in a tenth)."""
    with contextlib.ExitStack() as stack:
        runs = []
        for configs, sends, with_key in plan:
            state = Path(stack.enter_context(scratch_state()))
            host = stack.enter_context(LocalHost(configs, state, variables={"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET}))
            headers = {"authorization": f"Bearer {create_key(host.url)}"} if with_key else {}
            client = stack.enter_context(httpx.Client(base_url=host.url, timeout=60, headers=headers))
            if ai_knobs:
                client.post("/__devhost/ai", json=ai_knobs).raise_for_status()
            for _label, send in sends:
                for warm_up in range(3):  # first imports, caches, JIT
                    send(client, -1 - warm_up)
            runs.append((host, client, sends, {label: ([], []) for label, _ in sends}))
        for i in range(n):
            for host, client, sends, samples in rotated(runs, i):
                if primed:
                    sends[0][1](client, -100 - i)
                for label, send in rotated(sends, i):
                    cpu, wall = cpu_and_wall(host, client, send, i)
                    samples[label][0].append(cpu)
                    samples[label][1].append(wall)
        return [samples for *_, samples in runs]


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} ({percentile(samples, 0.95):.1f})"


def per_route(n: int) -> list[str]:
    """Our routes on workerd beside the floors (a bare Python and a bare JavaScript worker) and
    a JavaScript worker making each route's binding calls; CPU of the whole workerd process."""
    ours, javascript, python = measured([
        (CONFIGS, [*route_requests(), *MODEL_ALONE], True),
        ([BASELINES / "js" / "wrangler.toml"], [("bare", lambda c, _i: c.get("/bare").raise_for_status()), *route_requests()], False),
        (PYTHON_FLOORS, [("bare", lambda c, _i: c.get("/bare").raise_for_status()),
                                                    ("rpc", lambda c, _i: c.get("/rpc").raise_for_status()),
                                                    ("chat", stream_send({}, "/chat"))], False),
    ], n, primed=True)
    floor = statistics.median(python["bare"][0])
    chat_floor = statistics.median(python["chat"][0])
    one_token = statistics.median(ours["POST /stream/chat, a 1-token answer"][0])
    lines = [
        f"Floors ({n} sequential requests, CPU median (p95) in ms): a bare Python worker {ms(python['bare'][0])}, "
        f"the same after one RPC to a second Python worker {ms(python['rpc'][0])}, "
        f"the same answered by a stream the second worker makes after one call to a Python Durable Object (a streamed "
        f"generation's least: bench/python/peer) {ms(python['chat'][0])}, "
        f"a bare JavaScript worker {ms(javascript['bare'][0])}. A 1-token chat is {one_token - chat_floor:.1f} above the "
        f"streamed generation's floor ({chat_floor - floor:.1f} above the bare one): the two workers' own work, the model's "
        "call and the counter's SQL.",
        "",
        "| route | CPU ms | wall ms | JS, same binding calls: CPU ms | ours above the Python floor | "
        "ours above the floor and the binding calls | ours / JS |",
        "|---|---|---|---|---|---|---|",
    ]
    js_floor = statistics.median(javascript["bare"][0])
    for label, (cpu, wall) in ours.items():
        if label not in javascript:
            continue
        js_cpu = javascript[label][0]
        # The local binding simulators (D1, KV, R2) run in the measured process; on Cloudflare
        # they do not. Their share is what the JS worker spends above its own floor.
        bindings = statistics.median(js_cpu) - js_floor
        above = statistics.median(cpu) - floor
        lines.append(f"| {label} | {ms(cpu)} | {ms(wall)} | {ms(js_cpu)} | {above:.1f} | {above - bindings:.1f} | "
                     f"{statistics.median(cpu) / statistics.median(js_cpu):.1f}x |")
    one, everything = "POST /stream/chat, a 1-token answer", f"POST /stream/chat, a {REPLY_TOKENS}-token answer"

    def per_token(runs: Samples, one: str = one, everything: str = everything) -> float:
        return (statistics.median(runs[everything][0]) - statistics.median(runs[one][0])) / (REPLY_TOKENS - 1) * 1000

    model = per_token(ours, *(label for label, _ in MODEL_ALONE))
    # Not less the stand-in's own share: streamed alone, each token is a chunk to the client, where
    # our relay sends the tokens that came together as one; the row is an upper bound of the relay's.
    lines.append(f"| relay CPU per token ({REPLY_TOKENS}-token minus 1-token answer; the AI stand-in's own share included, "
                 f"{model:.0f} µs a token when it streams alone) | {per_token(ours):.0f} µs | | {per_token(javascript):.0f} µs | | | "
                 f"{per_token(ours) / max(1.0, per_token(javascript)):.1f}x |")
    return lines


CONSUMER_WAIT_S = 2.5  # past the consumers' max_batch_timeout (1 s): every batch sent is indexed by then


def all_in(n: int, send, settle_s: float) -> dict[str, float]:
    """CPU per request of `send` with everything it causes, ours and the JavaScript worker's: N
    requests one after another, then `settle_s` for the work they left behind (a queue consumer,
    a batch of records), less the same wait with nothing sent (idle). After N unmeasured ones: a
    fresh process spends the first tens of requests also compiling (V8 tiers the WebAssembly up
    on threads of its own), which cost a 1-token chat's first 60 here ~8 ms more each."""
    rows = {}
    with contextlib.ExitStack() as stack:
        for label, configs, with_key in (("ours", CONFIGS, True), ("JS", [BASELINES / "js" / "wrangler.toml"], False)):
            state = Path(stack.enter_context(scratch_state()))
            host = stack.enter_context(LocalHost(configs, state, variables={"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET}))
            headers = {"authorization": f"Bearer {create_key(host.url)}"} if with_key else {}
            client = stack.enter_context(httpx.Client(base_url=host.url, timeout=60, headers=headers))
            for i in range(n):
                send(client, 1000 + i)
            time.sleep(settle_s)
            before = cpu_ns(host.process.pid)
            time.sleep(settle_s)
            idle = cpu_ns(host.process.pid) - before
            before = cpu_ns(host.process.pid)
            for i in range(n):
                send(client, 3000 + i)
            time.sleep(settle_s)
            rows[label] = (cpu_ns(host.process.pid) - before - idle) / 1e6 / n
    return rows


def events_all_in(n: int) -> list[str]:
    """A 100-event batch with its share of the queue consumer's work (storing it in R2, indexing
    it in D1, the key's counter, Analytics Engine), which the per-request table only catches when
    a run lands within a request."""
    rows = all_in(n, lambda c, i: c.post("/events", json=event_batch(i)).raise_for_status(), CONSUMER_WAIT_S)
    return [f"| POST /events, a 100-event batch with its share of the queue consumer's indexing ({n} batches, all CPU "
            f"until indexed, per batch) | {rows['ours']:.1f} | | {rows['JS']:.1f} | | | {rows['ours'] / rows['JS']:.1f}x |"]


USAGE_WAIT_S = 1.0  # past the inference worker's USAGE_FLUSH_MS (500): every chat's records are written by then


def chats_all_in(n: int) -> list[str]:
    """A 1-token chat with its records, which ours batches per isolate (each chat's counter update
    carried by the next one's admission, the D1 rows written together) and the JavaScript worker
    writes at each answer's end: the per-request table sees a batch's write only in the request it
    lands in."""
    rows = all_in(n, stream_send(ONE_TOKEN), USAGE_WAIT_S)
    return [f"| POST /stream/chat, a 1-token answer with its records ({n} chats in a row, all CPU until every record is "
            f"written, per chat) | {rows['ours']:.1f} | | {rows['JS']:.1f} | | | {rows['ours'] / rows['JS']:.1f}x |"]


PACED_TOKENS = 100
PACED_DELAY_MS = 20  # a model generating 50 tokens a second: each token comes alone, nothing to batch


def paced_relay(n: int) -> list[str]:
    """Relay CPU per token when the model paces its tokens (PACED_DELAY_MS apart, more than
    STREAM_FLUSH_MS): one read, one chunk, per token; ours and the JavaScript worker's."""
    one, paced = stream_send(long_chat(1)), stream_send(long_chat(PACED_TOKENS))
    plan: Plan = [(CONFIGS, [("one", one), ("paced", paced)], True),
                  ([BASELINES / "js" / "wrangler.toml"], [("one", one), ("paced", paced)], False)]
    ours, javascript = measured(plan, n, ai_knobs={"tokenDelayMs": PACED_DELAY_MS})

    def per_token(runs: Samples) -> float:
        return (statistics.median(runs["paced"][0]) - statistics.median(runs["one"][0])) / (PACED_TOKENS - 1) * 1000

    ratio = per_token(ours) / max(1.0, per_token(javascript))
    return [f"| relay CPU per token, tokens {PACED_DELAY_MS} ms apart ({PACED_TOKENS}-token minus 1-token answer, {n} each) "
            f"| {per_token(ours):.0f} µs | | {per_token(javascript):.0f} µs | | | {ratio:.1f}x |"]


TOOL_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
WEATHER_QUESTION = {"role": "user", "content": "What is the weather in Paris?"}
WEATHER_CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
WEATHER_RESULT = {"role": "tool", "tool_call_id": "call_1", "content": '{"forecast": "sunny", "celsius": 21}'}


def completion_send(messages: list[dict], tools: bool, expect: str):
    """send(client, i): a non-streamed /v1/chat/completions, checked to end as `expect` says."""
    body = {"model": TOOL_MODEL, "messages": messages, "max_tokens": 64, **({"tools": [WEATHER_TOOL]} if tools else {})}

    def send(client: httpx.Client, _i: int) -> None:
        response = client.post("/v1/chat/completions", json=body)
        response.raise_for_status()
        assert response.json()["choices"][0]["finish_reason"] == expect, response.text
    return send


def tool_round_trip(n: int) -> list[str]:
    """A tool round trip on /v1/chat/completions (the model calls a tool; the result goes back and
    the model answers) beside a plain chat of the same model, interleaved on one host."""
    [ours] = measured([(CONFIGS, [
        ("plain", completion_send([WEATHER_QUESTION], tools=False, expect="stop")),
        ("call", completion_send([WEATHER_QUESTION], tools=True, expect="tool_calls")),
        ("result", completion_send([WEATHER_QUESTION, WEATHER_CALL, WEATHER_RESULT], tools=True, expect="stop")),
    ], True)], n, primed=True)
    plain, call, result = (statistics.median(ours[label][0]) for label in ("plain", "call", "result"))
    return [
        f"Tool round trip ({n} interleaved requests each, /v1/chat/completions, {TOOL_MODEL}, not streamed; CPU median (p95) ms):",
        "",
        "| request | CPU ms | wall ms | CPU above the plain chat |",
        "|---|---|---|---|",
        f"| a plain chat (no tools) | {ms(ours['plain'][0])} | {ms(ours['plain'][1])} | |",
        f"| the call: given a tool, the model calls it | {ms(ours['call'][0])} | {ms(ours['call'][1])} | {call - plain:.1f} |",
        f"| the result: the call and its result sent back, the model answers | {ms(ours['result'][0])} | {ms(ours['result'][1])} "
        f"| {result - plain:.1f} |",
        f"| the round trip (both) | {call + result:.1f} | | {call + result - plain:.1f} (one plain chat: {plain:.1f}) |",
        "",
    ]


STREAM_END_PROVIDER = "standin-provider"
WORKERS_AI_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
OBJECT_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def stream_end_requests() -> list[tuple[str, str, dict]]:
    """(protocol, path, body) of a 1-token answer on each streamed protocol."""
    openai_chat = {"model": MODEL, "stream": True, "max_tokens": 1, "messages": [{"role": "user", "content": LONG_PROMPT}]}
    return [
        # A model no routing rule sends to the provider: the Workers AI binding's stand-in, which
        # sends a short answer's events together (in the worker's isolate, as the binding's client runs).
        ("AI SDK UI message stream (/stream/chat), Workers AI", "/stream/chat", {**ONE_TOKEN, "model": WORKERS_AI_MODEL}),
        ("AI SDK UI message stream (/stream/chat)", "/stream/chat", ONE_TOKEN),
        ("AI SDK text stream (/stream/completion?protocol=text)", "/stream/completion?protocol=text",
         {"prompt": LONG_PROMPT, "maxOutputTokens": 1}),
        ("AI SDK data stream (/stream/completion)", "/stream/completion", {"prompt": LONG_PROMPT, "maxOutputTokens": 1}),
        ("AI SDK object stream (/stream/object)", "/stream/object", {"prompt": "a city", "schema": OBJECT_SCHEMA}),
        ("OpenAI SSE (/v1/chat/completions, stream)", "/v1/chat/completions", openai_chat),
        ("OpenAI SSE (/v1/completions, stream)", "/v1/completions",
         {"model": MODEL, "stream": True, "max_tokens": 1, "prompt": LONG_PROMPT}),
        ("the provider alone (the AI stand-in's OpenAI face, no worker of ours)", "/__devhost/openai/v1/chat/completions", openai_chat),
    ]


def provider_host(state: Path, variables: dict[str, str], memory: bool = False) -> LocalHost:
    """A host (not started) whose MODEL goes the external provider's way: to the AI stand-in's
    OpenAI-compatible face, which the host's control worker serves (another isolate), so the model's
    stream comes over fetch, as a provider's does, and as Workers AI's does on Cloudflare."""
    host = LocalHost(CONFIGS, state, memory=memory, variables={
        **variables, "PROVIDER_NAME": STREAM_END_PROVIDER, "PROVIDER_API_KEY": "bench-provider-key",
        "PROVIDER_MODELS": json.dumps({MODEL: "standin-model"}),
        "ROUTING_RULES": json.dumps([{"provider": STREAM_END_PROVIDER, "models": [MODEL]}])})
    host.variables["PROVIDER_URL"] = f"{host.url}/__devhost/openai/v1"
    return host


def first_to_end_ms(client: httpx.Client, path: str, body: dict) -> float:
    """From the answer's first body byte to its end (the last byte, or the close after it)."""
    first = 0.0
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        for _ in response.iter_raw():
            first = first or time.perf_counter()
    return (time.perf_counter() - first) * 1000


def stream_end(n: int) -> list[str]:
    """How long a 1-token answer's end comes after its first byte: through Workers AI, then per
    protocol through the external provider's path (the AI stand-in's OpenAI-compatible face, which sends the token,
    the finish reason, the usage and [DONE] as chunks of their own, as providers do)."""
    with scratch_state() as state:
        host = provider_host(Path(state), {"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET})
        with host, httpx.Client(base_url=host.url, timeout=60, headers={"authorization": f"Bearer {create_key(host.url)}"}) as client:
            requests = stream_end_requests()
            for _label, path, body in requests:
                for _ in range(3):
                    first_to_end_ms(client, path, body)
            samples: dict[str, list[float]] = {label: [] for label, _, _ in requests}
            for i in range(n):
                for label, path, body in rotated(requests, i):
                    samples[label].append(first_to_end_ms(client, path, body))
    return [f"A 1-token answer's end after its first byte, through Workers AI, then through the external provider ({n} interleaved "
            "requests each; wall ms):",
            "", "| protocol | first byte to end, median (p95) |", "|---|---|",
            *(f"| {label} | {ms(times)} |" for label, times in samples.items()), ""]


def crossings(n: int = 20_000) -> list[str]:
    """Each operation of bench/crossings n times in one request, less the same request doing
    nothing n times: the CPU one operation costs (best of three)."""
    with scratch_state() as state, LocalHost([BASELINES / "crossings" / "wrangler.toml"], Path(state)) as host:
        with httpx.Client(base_url=host.url, timeout=120) as client:
            def cpu_us(op: str) -> float:
                runs = []
                for _ in range(3):
                    before = cpu_ns(host.process.pid)
                    client.get("/", params={"op": op, "n": n}).raise_for_status()
                    runs.append((cpu_ns(host.process.pid) - before) / 1e3)
                return min(runs)

            names = client.get("/", params={"list": "1"}).json()
            for name in names:
                cpu_us(name)  # warm-up
            floor = cpu_us("nothing")
            rows = [f"| {name} | {(cpu_us(name) - floor) / n:.2f} µs |" for name in names if name != "nothing"]
    return ["| one operation in a Python Worker (workerd, best of 3 x 20,000) | CPU |", "|---|---|", *rows]


def events_and_metrics(client: httpx.Client, n: int) -> list[tuple[str, str]]:
    now_ms = int(time.time() * 1000)
    batch = event_batch
    client.post("/events", json=batch(-1)).raise_for_status()  # warm-up
    started = time.perf_counter()
    latencies = []
    for b in range(n):
        sent = time.perf_counter()
        assert client.post("/events", json=batch(b)).status_code == 202
        latencies.append((time.perf_counter() - sent) * 1000)
    rate = n * 100 / (time.perf_counter() - started)

    def metrics(start_ms: int) -> float:
        query = ("query($r: TimeRange!) { eventMetrics(metric: EVENTS_BY_TYPE, range: $r, bucket: HOUR) "
                 "{ totals { key value } cached } }")
        iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))  # noqa: E731
        sent = time.perf_counter()
        variables = {"r": {"from": iso(start_ms), "to": iso(now_ms + 60_000)}}
        client.post("/graphql", json={"query": query, "variables": variables}).raise_for_status()
        return (time.perf_counter() - sent) * 1000

    # A different range each time misses the cache; the same range again hits it.
    uncached = [metrics(now_ms - 86_400_000 - i * 60_000) for i in range(n)]
    metrics(now_ms - 86_400_000)
    cached = [metrics(now_ms - 86_400_000) for _ in range(n)]
    return [
        (f"POST /events, 100-event batches, one at a time ({n} batches)", f"{rate:.0f} events/s; {summary(latencies)} a batch"),
        (f"eventMetrics over {n * 100} events, uncached (median, p95 of {n})", summary(uncached)),
        (f"eventMetrics, cached in KV (median, p95 of {n})", summary(cached)),
    ]


def cache_send(body: dict, headers: dict | None = None):
    """send(client, i): a chat whose `{i}` in the question is the request's number, read to its end."""
    def send(client: httpx.Client, i: int) -> None:
        numbered = json.loads(json.dumps(body).replace("{i}", str(i)))
        with client.stream("POST", "/stream/chat", json=numbered, headers=headers) as response:
            response.raise_for_status()
            for _ in response.iter_raw():
                pass
    return send


def generation_cache(n: int) -> list[tuple[str, str]]:
    """A cached answer (exact hit) with the Cache API in front of KV (GENERATION_CACHE_EDGE) and
    with KV alone, two hosts measured in turn; and, on the first, what the semantic cache costs: a
    paraphrase answered from it, a new question (embedded, looked up, generated, kept) and the
    same without any cache (x-cache-skip)."""
    cached = {**chat_body(LONG_PROMPT), "temperature": 0}
    question = "How do I reset the password of my account? ({i})"
    sends = [("hit", cache_send(cached)),
             ("semantic hit", cache_send(chat_body("how can I reset my account password"))),
             ("semantic miss", cache_send(chat_body("Question {i}: which color is sky number {i}?"))),
             ("uncached", cache_send(chat_body("Question {i}: which color is sea number {i}?"), {"x-cache-skip": "true"}))]
    with contextlib.ExitStack() as stack:
        runs = []
        for edge in ("true", "false"):
            state = Path(stack.enter_context(scratch_state()))
            variables = {"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET, "GENERATION_CACHE_EDGE": edge, "SEMANTIC_CACHE": "*"}
            host = stack.enter_context(LocalHost(CONFIGS, state, variables=variables))
            headers = {"authorization": f"Bearer {create_key(host.url)}"}
            client = stack.enter_context(httpx.Client(base_url=host.url, timeout=60, headers=headers))
            cache_send(chat_body(question.replace(" ({i})", "")))(client, 0)  # the question the paraphrase finds
            for _label, send in sends:
                for warm_up in range(3):
                    send(client, -1 - warm_up)
            runs.append((host, client, {label: ([], []) for label, _ in sends}))
        for i in range(n):
            for host, client, samples in rotated(runs, i):
                for label, send in rotated(sends, i):
                    cpu, wall = cpu_and_wall(host, client, send, i)
                    samples[label][0].append(cpu)
                    samples[label][1].append(wall)
    (edge, kv) = (samples for *_, samples in runs)
    return [
        (f"a cached {REPLY_TOKENS}-token answer (exact hit): Cache API in front of KV / KV alone, CPU ms median (p95) of {n}",
         f"{ms(edge['hit'][0])} / {ms(kv['hit'][0])}"),
        ("the same, wall ms", f"{ms(edge['hit'][1])} / {ms(kv['hit'][1])}"),
        (f"semantic cache: a paraphrase answered / a new question (embedded, looked up, generated, kept) / the same "
         f"uncached (x-cache-skip), CPU ms median (p95) of {n}",
         f"{ms(edge['semantic hit'][0])} / {ms(edge['semantic miss'][0])} / {ms(edge['uncached'][0])}"),
        ("the same, wall ms", f"{ms(edge['semantic hit'][1])} / {ms(edge['semantic miss'][1])} / {ms(edge['uncached'][1])}"),
    ]


def create_key(url: str, admin_token: str = ADMIN_TOKEN) -> str:
    response = httpx.post(f"{url}/graphql", timeout=60, headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": 'mutation { createApiKey(name: "bench", tier: ENTERPRISE) { key } }'})
    return response.json()["data"]["createApiKey"]["key"]


COLD_MODES = ("none", "baseline", "dedicated")
COLD_VARIABLES = {"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET}


def cold_start_samples(directory: Path, state: Path, spawns: int) -> dict[tuple[str, str], list[float]]:
    """(row, mode) -> seconds from workerd's spawn to the first 200, one per spawn; modes in
    rotated order each round, so that a machine whose speed drifts slows every mode alike."""
    samples: dict[tuple[str, str], list[float]] = {}

    def rounds(row: str, spawn) -> None:
        for i in range(spawns):
            for mode in rotated(list(COLD_MODES), i):
                samples.setdefault((row, mode), []).append(spawn(mode))
                print(f"  {row}, {mode}: {samples[row, mode][-1]:.2f} s", file=sys.stderr, flush=True)

    workers = snapshots.WORKERS

    def floor(mode: str) -> float:
        with snapshots.start(workers["floor"], mode, directory) as worker:
            return worker.spawn_to_answer

    rounds("the bare Python worker (floor)", floor)

    rpc_port = free_port()
    peer_address = f"127.0.0.1:{rpc_port}"
    with snapshots.start(workers["inference"], "dedicated", directory, rpc_port=rpc_port, variables=COLD_VARIABLES,
                         state_dir=state, wait=False) as peer:
        peer.wait_until_ready()

        def api(mode: str) -> float:
            with snapshots.start(workers["api"], mode, directory, peer_address=peer_address, variables=COLD_VARIABLES) as worker:
                return worker.spawn_to_answer

        rounds("the api worker alone", api)

    with snapshots.start(workers["api"], "dedicated", directory, peer_address=peer_address, variables=COLD_VARIABLES,
                         wait=False) as front:
        front.wait_until_ready()

        def inference(mode: str) -> float:
            with snapshots.start(workers["inference"], mode, directory, rpc_port=rpc_port, variables=COLD_VARIABLES,
                                 state_dir=state, wait=False) as worker:
                answered = worker.wait_for_answer(f"{front.url}/health")
                bindings = worker.first_answer.json()["inference"]["bindings"].values()
                # Its health reads D1, KV, R2 and Vectorize at once: the local simulators, which
                # start with the process, answer their first read late; on Cloudflare they are
                # services already running.
                simulators[mode].append(max(b["latency_ms"] for b in bindings if b["checked"]) / 1000)
                return answered

        simulators: dict[str, list[float]] = {mode: [] for mode in COLD_MODES}
        rounds("the inference worker alone (RPC health)", inference)
        for mode, waits in simulators.items():
            runs = samples["the inference worker alone (RPC health)", mode]
            samples["the inference worker alone, less its bindings' first reads", mode] = [
                run - wait for run, wait in zip(runs, waits, strict=True)]

    def pair(mode: str) -> float:
        with snapshots.start_pair(mode, directory, variables=COLD_VARIABLES, state_dir=state) as (api_process, _):
            return api_process.spawn_to_answer

    rounds("the pair (api /health through the inference worker)", pair)
    return samples


def cold_routes(token: str) -> list[tuple[str, object]]:
    """(label, send(client)) of every route for the first-request rows, with a JWT (no key to
    create first: that would be a GraphQL request)."""
    auth = {"authorization": f"Bearer {token}"}

    def get(path: str):
        return lambda c: c.get(path, headers=auth).raise_for_status()

    def post(path: str, body):
        return lambda c: c.post(path, json=body, headers=auth).raise_for_status()

    def stream(path: str, body: dict):
        def send(c: httpx.Client) -> None:
            with c.stream("POST", path, json=body, headers=auth) as response:
                response.raise_for_status()
                for _ in response.iter_raw():
                    pass
        return send

    return [
        ("GET /health", get("/health")),
        ("GET /v1/models", get("/v1/models")),
        ("POST /graphql { models }", post("/graphql", {"query": "{ models { id } }"})),
        ("POST /events, a 100-event batch", post("/events", event_batch(0))),
        ("POST /stream/chat, a 1-token answer", stream("/stream/chat", ONE_TOKEN)),
        ("POST /v1/embeddings, 100 texts", post("/v1/embeddings", EMBEDDINGS)),
        ("POST /stream/completion", stream("/stream/completion", {"prompt": "Hello", "maxOutputTokens": 16})),
        ("POST /stream/object", stream("/stream/object", {"prompt": "Write", "schema": {"type": "string"}})),
        ("POST /v1/chat/completions", post("/v1/chat/completions", {"model": MODEL, "max_tokens": 16,
                                                                    "messages": [{"role": "user", "content": "Hello"}]})),
    ]


def _first_and_warm(client: httpx.Client, send, warm: int) -> tuple[float, list[float]]:
    """The first request's wall ms, then `warm` requests' after 3 unmeasured."""
    started = time.perf_counter()
    send(client)
    first = (time.perf_counter() - started) * 1000
    for _ in range(3):
        send(client)
    samples = []
    for _ in range(warm):
        started = time.perf_counter()
        send(client)
        samples.append((time.perf_counter() - started) * 1000)
    return first, samples


def first_requests(directory: Path, state: Path, warm: int) -> list[str]:
    """Each route's first request in a fresh pair restored from dedicated snapshots (started
    without any request: Ready is the probe), then its warm median of `warm` requests; then the
    same in the pair's twins (scripts/snapshots.py twin_config): fresh isolates restored from the
    same snapshots, in the processes the pair's requests just warmed."""
    token = jwt.encode({"sub": "bench", "tier": "enterprise", "exp": int(time.time()) + 3600}, JWT_SECRET)
    lines = [f"First request of each route in a fresh pair restored from dedicated snapshots, against the same route's "
             f"warm median ({warm} requests after 3 unmeasured), wall ms; then in fresh isolates of the same workers "
             "(their twins) in the processes those requests warmed:", "",
             "| route | first request (fresh processes) | warm median (p95) | penalty | first request (fresh isolates, "
             "warm processes) | warm median (p95) | penalty |", "|---|---|---|---|---|---|---|"]
    for label, send in cold_routes(token):
        with snapshots.start_pair("dedicated", directory, variables=COLD_VARIABLES, state_dir=state, answer=False,
                                  twins=True) as (api, _):
            with httpx.Client(base_url=api.url, timeout=60) as client:
                first, samples = _first_and_warm(client, send, warm)
            with httpx.Client(base_url=api.twin_url, timeout=60) as client:
                twin_first, twin_samples = _first_and_warm(client, send, warm)
        lines.append(f"| {label} | {first:.0f} | {ms(samples)} | {first - statistics.median(samples):.0f} | "
                     f"{twin_first:.0f} | {ms(twin_samples)} | {twin_first - statistics.median(twin_samples):.0f} |")
        print(f"  {label}: first {first:.0f} ms, in a warm process {twin_first:.0f} ms", file=sys.stderr, flush=True)
    return lines


def dev_second_starts(spawns: int) -> list[str]:
    """make dev's host started again on a state folder it started on before (no code change):
    as it is, and restored from the baseline snapshot kept between starts (scripts/snapshots.py
    dev_baseline), in rotated order."""
    variables = {"ADMIN_TOKEN": ADMIN_TOKEN}
    samples: dict[str, list[tuple[float, float, float]]] = {"no snapshot": [], "from the kept baseline": []}
    with scratch_state() as state_dir, tempfile.TemporaryDirectory() as snapshot_dir:
        state = Path(state_dir)
        with snapshots.dev_host(state, variables=variables) as first:  # the first start: state, migrations
            first.wait_until_ready()
        baseline = snapshots.dev_baseline(Path(snapshot_dir))
        for i in range(spawns):
            for mode in rotated(list(samples), i):
                with snapshots.dev_host(state, baseline if mode != "no snapshot" else None, variables) as host:
                    host.wait_until_ready()
                    host.wait_for_answer(f"{host.url}/health")
                    samples[mode].append((host.start_to_ready, host.spawn_to_ready, host.spawn_to_answer))
                print(f"  make dev, {mode}: {samples[mode][-1][0]:.2f} s to Ready", file=sys.stderr, flush=True)
    lines = [f"make dev's second start (no code change), seconds, median (p95) of {spawns}:", "",
             "| start | host start to 'Ready' (what make dev prints) | workerd spawn to 'Ready' | workerd spawn to the first "
             "/health 200 |", "|---|---|---|---|"]
    for mode, runs in samples.items():
        cells = [f"{statistics.median(column):.2f} ({percentile(list(column), 0.95):.2f})" for column in zip(*runs, strict=True)]
        lines.append(f"| {mode} | {' | '.join(cells)} |")
    return lines


def cold_starts(spawns: int, warm: int) -> list[str]:
    """The cold-start section: spawn to first answer per worker and mode, the snapshots' sizes,
    the first-request penalties."""
    with tempfile.TemporaryDirectory() as snapshot_dir, scratch_state() as state_dir:
        directory, state = Path(snapshot_dir), Path(state_dir)
        for worker in snapshots.WORKERS.values():  # saved before any clock starts
            snapshots.snapshot_for(worker, "dedicated", directory)
        samples = cold_start_samples(directory, state, spawns)
        rows = dict.fromkeys(row for row, _ in samples)
        floor = {mode: statistics.median(samples["the bare Python worker (floor)", mode]) for mode in COLD_MODES}
        lines = [f"Cold starts: workerd's spawn to the first 200, seconds, median (p95) of {spawns} spawns, each worker in a "
                 "workerd process of its own (scripts/snapshots.py); in brackets, above the floor in the same mode:", "",
                 "| worker | no snapshot | baseline snapshot | dedicated snapshot |", "|---|---|---|---|"]
        for row in rows:
            cells = []
            for mode in COLD_MODES:
                runs = samples[row, mode]
                above = "" if row.startswith("the bare") else f" [+{statistics.median(runs) - floor[mode]:.2f}]"
                cells.append(f"{statistics.median(runs):.2f} ({percentile(runs, 0.95):.2f}){above}")
            lines.append(f"| {row} | {' | '.join(cells)} |")
        sizes = ", ".join(f"{path.stem} {path.stat().st_size / 1e6:.1f} MB" for path in sorted(directory.glob("*.bin")))
        lines += ["", f"Snapshot sizes: {sizes}.", ""]
        lines += first_requests(directory, state, warm)
    return [*lines, "", *dev_second_starts(spawns)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per measurement")
    parser.add_argument("--routes-only", action="store_true", help="only the per-route CPU table")
    parser.add_argument("--memory-only", action="store_true", help="only the isolate memory table")
    parser.add_argument("--cold-only", action="store_true", help="only the cold-start section")
    parser.add_argument("--cache-only", action="store_true", help="only the generation cache's rows")
    parser.add_argument("--semantic-only", action="store_true", help="only the semantic cache on the paraphrase set")
    parser.add_argument("--spawns", type=int, default=5, help="starts per worker and snapshot mode in the cold-start section")
    args = parser.parse_args()
    n = args.requests
    if args.memory_only:
        print("\n".join(memory_table()))
        return
    if args.cold_only:
        print("\n".join(cold_starts(args.spawns, n)), flush=True)
        return
    if args.semantic_only:
        print("\n".join(semantic_cache_bench.measure()), flush=True)
        return
    if args.cache_only:
        print("| measurement (workerd) | result |\n|---|---|")
        print("\n".join(f"| {name} | {value} |" for name, value in generation_cache(n)))
        return

    print("\n".join(per_route(n)), flush=True)
    print("\n".join(events_all_in(n)), flush=True)
    print("\n".join(chats_all_in(n)), flush=True)
    print("\n".join(paced_relay(max(5, n // 5))), flush=True)
    print()
    print("\n".join(tool_round_trip(n)), flush=True)
    print("\n".join(stream_end(n)), flush=True)
    if args.routes_only:
        return
    print("\n".join(crossings()), flush=True)
    print()

    rows = []
    with scratch_state() as state:
        started = time.perf_counter()
        variables = {"ADMIN_TOKEN": ADMIN_TOKEN, "JWT_SECRET": JWT_SECRET}
        with LocalHost(CONFIGS, Path(state), variables=variables) as host:
            rows.append(("workerd host start-up to 'Ready' (wall, both workers)", f"{(time.perf_counter() - started) * 1000:.0f} ms"))
            key = create_key(host.url)
            with httpx.Client(base_url=host.url, timeout=60, headers={"authorization": f"Bearer {key}"}) as client:
                rows.append((f"GET /health, median (p95) of {n}", summary(timed_get(client, "/health", n))))

                # The baseline: a route that is routed and answered but needs no admission.
                admin = timed_post_graphql(client, n, ADMIN_TOKEN)
                with_key = timed_post_graphql(client, n)
                token = jwt.encode({"sub": "bench", "tier": "enterprise", "exp": int(time.time()) + 3600}, JWT_SECRET)
                with_jwt = timed_post_graphql(client, n, token)
                rows.append((f"GraphQL {{ models }} with the admin token (no admission), median (p95) of {n}", summary(admin)))
                rows.append((f"the same with an API key (a read: admitted by the key's counter, mostly from slots taken ahead), "
                             f"median (p95) of {n}", summary(with_key)))
                rows.append((f"the same with a JWT (verified here; admitted as the key), median (p95) of {n}", summary(with_jwt)))
                rows.append(("auth + rate limit cost per request, API key / JWT (median difference)",
                             f"{statistics.median(with_key) - statistics.median(admin):.1f} / "
                             f"{statistics.median(with_jwt) - statistics.median(admin):.1f} ms"))

                api_ttfb, _ = streams(client, "/stream/chat", chat_body("Hello"), n)
                direct_ttfb, _ = streams(client, "/__devhost/ai/run", direct_body("Hello"), n)
                rows.append((f"time to first byte, /stream/chat via api → RPC → model (median, p95 of {n})", summary(api_ttfb)))
                rows.append((f"time to first byte, model stand-in called directly (median, p95 of {n})", summary(direct_ttfb)))

                _, api_total = streams(client, "/stream/chat", chat_body(LONG_PROMPT), n)
                _, direct_total = streams(client, "/__devhost/ai/run", direct_body(LONG_PROMPT), n)
                tokens = len(f"You said: {LONG_PROMPT} (a deterministic reply from the local stand-in for {MODEL})".split())
                per_token = [(a - d) / tokens * 1000 for a, d in zip(sorted(api_total), sorted(direct_total), strict=True)]
                rows.append((f"{tokens}-token stream, via api / direct (median of {n})",
                             f"{statistics.median(api_total):.0f} / {statistics.median(direct_total):.0f} ms"))
                rows.append(("relay cost per token, api + inference workers (median, p95)", summary(per_token, "µs", 0)))

                rows += events_and_metrics(client, n)
    rows += generation_cache(n)

    print("| measurement (workerd) | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print("\n".join(semantic_cache_bench.measure()), flush=True)
    print()
    print("\n".join(cold_starts(args.spawns, n)), flush=True)
    print("\n".join(memory_table()), flush=True)


def memory_table() -> list[str]:
    from scripts import memory_bench  # it imports scripts/load.py, which imports this module

    return memory_bench.measure(memory_bench.MIXED_REQUESTS, memory_bench.STREAMS)


if __name__ == "__main__":
    main()
