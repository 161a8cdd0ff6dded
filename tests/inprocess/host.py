"""Both workers in this process, as the local host runs them: the api's `handle` and the inference
worker's InferenceService behind the INFERENCE service binding, with the bindings of
tests/fakes.py (D1 on SQLite with the migrations, KV, R2, Analytics Engine, Vectorize), the
Workers AI stand-in (tests/inprocess/ai.py), the event queue delivering to the inference
worker's consumer, and the KeyCounter Durable Object on an SQLite storage of its own. Each
worker's vars are its wrangler.toml's, with the test's on top (and a usage batch's wait of 1 ms,
inference/usage_batch.py).

`InProcessHost.fetch` is the test client (as hono's `app.request()`): it makes the request,
calls `handle(request, env, ctx)`, reads a streamed body to its end, awaits what the request
left to `ctx.waitUntil` and delivers the queue's messages, as the runtime would before the next
request; `transport()` puts it under an httpx.Client. The clock is a FakeClock (shared/clock.py)
that tests advance instead of sleeping."""

import asyncio
import importlib.util
import sqlite3
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx

from tests.inprocess import sdk

sdk.install()  # before any worker module: they import the runtime's names at import time

from inference.counter import KeyCounter  # noqa: E402
from shared import clock  # noqa: E402
from tests import fakes  # noqa: E402
from tests.inprocess.ai import AiRecorder, WorkersAI  # noqa: E402
from tests.inprocess.streams import JsObject  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _inference_entry() -> ModuleType:
    """The inference worker's entry.py (the api worker's is the `entry` on sys.path)."""
    spec = importlib.util.spec_from_file_location("inference_entry", ROOT / "inference_worker" / "entry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


inference_entry = _inference_entry()
Default, InferenceService = inference_entry.Default, inference_entry.InferenceService
ORIGIN = "http://inprocess.test"
INFERENCE_CONFIG = ROOT / "inference_worker" / "wrangler.toml"


def wrangler_vars(config: Path) -> dict[str, str]:
    return dict(tomllib.loads(config.read_text()).get("vars", {}))


def event_queues() -> tuple["Queue", ...]:
    """The queues the inference worker consumes, as its wrangler.toml configures them (the first
    one's dead letters go to the second)."""
    consumers = tomllib.loads(INFERENCE_CONFIG.read_text())["queues"]["consumers"]
    queues = {c["queue"]: Queue(c["queue"], c["max_retries"], c["max_batch_size"]) for c in consumers}
    for consumer in consumers:
        if "dead_letter_queue" in consumer:
            queues[consumer["queue"]].dead_letter = queues[consumer["dead_letter_queue"]]
    return tuple(queues.values())


class FakeClock:
    """Time that passes only when a test says (shared/clock.py's Clock)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self._monotonic = 1_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._monotonic += seconds

    def next_minute(self, second: float = 1.0) -> None:
        """To `second` seconds into the next minute: a fresh rate-limit window."""
        self.advance(60 - self.now % 60 + second)


class ExecutionContext:
    """ctx: what a request leaves to waitUntil, awaited by the host before the next request."""

    def __init__(self, pending: list[asyncio.Future]) -> None:
        self._pending = pending

    def waitUntil(self, awaitable: Awaitable[Any]) -> None:  # noqa: N802 (the runtime's name)
        self._pending.append(asyncio.ensure_future(awaitable))


class ServiceBinding:
    """A service binding to an entrypoint class: each method call is a new instance of it with
    the worker's env, called with the arguments as JS RPC passes them (strings, numbers, booleans
    as they are); a Response crosses as the runtime's (its body still streaming). A method named
    in `failing` raises its error instead, before the service sees the call (counted in `refused`)."""

    def __init__(self, entrypoint: type, env: Any, pending: list[asyncio.Future]) -> None:
        self._entrypoint, self._env, self._pending = entrypoint, env, pending
        self.failing: dict[str, Exception] = {}
        self.refused: Counter[str] = Counter()

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any) -> Any:
            if method in self.failing:
                self.refused[method] += 1
                raise self.failing[method]
            service = self._entrypoint(ExecutionContext(self._pending), self._env)
            result = await getattr(service, method)(*args)
            return result.js_object if isinstance(result, sdk.Response) else result
        return call


class JsArray(list):
    @property
    def length(self) -> int:
        return len(self)

    def to_py(self) -> list[dict]:
        return [vars(row).copy() for row in self]


class SqlCursor:
    def __init__(self, rows: list[sqlite3.Row]) -> None:
        self._rows = JsArray(JsObject(**dict(row)) for row in rows)

    def toArray(self) -> JsArray:  # noqa: N802
        return self._rows

    def one(self) -> JsObject:
        if len(self._rows) != 1:
            raise sdk.JsException(f"Error: Expected exactly one result from SQL query, but got {len(self._rows)}.")
        return self._rows[0]


class SqlStorage:
    """A Durable Object's `ctx.storage.sql`: SQLite, each exec a statement with its bindings."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None)
        self._conn.row_factory = sqlite3.Row

    def exec(self, sql: str, *params: Any) -> SqlCursor:
        return SqlCursor(self._conn.execute(sql, params).fetchall())


class DurableObjectNamespace:
    """One object per name, each taking one call at a time (the runtime's input gate)."""

    def __init__(self, cls: type, env: Any) -> None:
        self._cls, self._env = cls, env
        self._objects: dict[str, tuple[Any, asyncio.Lock]] = {}

    def idFromName(self, name: str) -> str:  # noqa: N802
        return name

    def get(self, object_id: str) -> Any:
        if object_id not in self._objects:
            ctx = SimpleNamespace(storage=SimpleNamespace(sql=SqlStorage()))
            self._objects[object_id] = (self._cls(ctx, self._env), asyncio.Lock())
        instance, gate = self._objects[object_id]

        class Stub:
            def __getattr__(self, method: str) -> Any:
                async def call(*args: Any) -> Any:
                    async with gate:
                        return await getattr(instance, method)(*args)
                return call
        return Stub()


@dataclass
class QueueMessage:
    body: str
    attempts: int = 1
    outcome: str | None = None  # "ack" or "retry", once the consumer said

    def ack(self) -> None:
        self.outcome = "ack"

    def retry(self, _options: Any = None) -> None:
        self.outcome = "retry"


@dataclass
class Queue:
    """A queue: what producers send waits for `InProcessHost.deliver`. `max_retries` and
    `dead_letter` as its consumer's configuration; `failing` refuses every send."""

    name: str
    max_retries: int
    batch_size: int
    dead_letter: "Queue | None" = None
    waiting: list[QueueMessage] = field(default_factory=list)
    failing: bool = False

    async def send(self, body: str, _options: Any = None) -> None:
        if self.failing:
            raise RuntimeError("Queue send failed: 500")
        self.waiting.append(QueueMessage(body))


def _api_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items() if name == "api" or name.startswith("api.")}


class InProcessHost:
    """`backends`: the inference workers' names, each bound to the api as INFERENCE, INFERENCE_2,
    ... (api/backends.py), all on the same storage, each with its own AI binding (its failures
    can be aimed at it). The api runs in an isolate of its own: its own copy of the api's
    modules (their per-isolate state), put in place while the host serves a request.
    `event_queue=False`: neither worker has the EVENT_QUEUE binding, as deployed without Queues."""

    def __init__(self, variables: dict[str, str] | None = None, backends: tuple[str, ...] = ("inference-service",),
                 event_queue: bool = True) -> None:
        variables = variables or {}
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.pending: list[asyncio.Future] = []
        self.ai = AiRecorder()
        self.queues = event_queues()
        self.queue = self.queues[0]  # the one both workers send to (EVENT_QUEUE)
        queue_binding = {"EVENT_QUEUE": self.queue} if event_queue else {}
        storage = {"DB": fakes.D1(), "CACHE": fakes.KV(), "ARCHIVE": fakes.R2(), "ANALYTICS": fakes.AnalyticsEngine(),
                   "VECTORS": fakes.Vectorize(), **queue_binding}
        # Usage batches flush as soon as the host awaits waitUntil, not after the deployed wait.
        inference_vars = {**wrangler_vars(INFERENCE_CONFIG), "USAGE_FLUSH_MS": "1", **variables}
        self.inference_envs = [SimpleNamespace(**storage, AI=WorkersAI(self.ai, name), **inference_vars) for name in backends]
        self.inference_env = self.inference_envs[0]  # the primary: it consumes the queue and owns the counter
        counters = DurableObjectNamespace(KeyCounter, self.inference_env)
        for env in self.inference_envs:
            env.KEY_COUNTER = counters
        bindings = {f"INFERENCE_{number}" if number > 1 else "INFERENCE": ServiceBinding(InferenceService, env, self.pending)
                    for number, env in enumerate(self.inference_envs, start=1)}
        self.env = SimpleNamespace(**bindings, **queue_binding, **{**wrangler_vars(ROOT / "wrangler.toml"), **variables})
        for name in _api_modules():  # a new isolate: the api's modules imported afresh
            del sys.modules[name]
        self._handle = importlib.import_module("api.app").handle
        self._isolate = _api_modules()

    def close(self) -> None:
        self.loop.close()

    @contextmanager
    def rpc_failing(self, binding: str, method: str, message: str = "Network connection lost.") -> Iterator["ServiceBinding"]:
        """Every call of `method` on the api's `binding` (INFERENCE_2, ...) raises meanwhile, as
        the runtime's JS RPC does when the call never reaches the other worker; gives the binding
        (its `refused` calls counted from now)."""
        service = getattr(self.env, binding)
        service.refused.clear()
        service.failing[method] = sdk.JsException(f"Error: {message}")
        try:
            yield service
        finally:
            del service.failing[method]

    def run(self, work: Awaitable[Any]) -> Any:
        """Runs `work` in this host: its isolate's api modules and its clock in place meanwhile."""
        for name in _api_modules():
            del sys.modules[name]
        sys.modules.update(self._isolate)
        clock.use(self.clock)
        try:
            return self.loop.run_until_complete(work)
        finally:
            clock.use(None)
            self._isolate = _api_modules()  # with any module a request imported

    async def fetch(self, method: str, path: str, headers: dict[str, str] | list[tuple[str, str]] | None = None,
                    body: bytes | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) of one request through the api's pipeline; whatever the
        request started (waitUntil, queued batches) done before it returns."""
        request = sdk.Request(sdk.JsRequest(method, f"{ORIGIN}{path}", sdk.Headers(headers), body))
        response = await self._handle(request, self.env, ExecutionContext(self.pending))
        content = await sdk._read_all(response.js_object.body)
        await self.settle()
        return response.status, response.js_object.headers.entries(), content

    async def settle(self) -> None:
        """Awaits what was left to waitUntil, then delivers queued messages, until neither is left."""
        while self.pending or any(queue.waiting for queue in self.queues):
            while self.pending:
                pending, self.pending[:] = list(self.pending), []
                await asyncio.gather(*pending, return_exceptions=True)
            await self.deliver()

    async def deliver(self) -> None:
        """One batch of each queue to the inference worker's consumer; a message not acked is
        retried (its attempts counted) up to the queue's max_retries, then dead-lettered."""
        for queue in self.queues:
            batch, queue.waiting = queue.waiting[:queue.batch_size], queue.waiting[queue.batch_size:]
            if not batch:
                continue
            consumer = Default(ExecutionContext(self.pending), self.inference_env)
            try:
                await consumer.queue(SimpleNamespace(queue=queue.name, messages=batch))
                failed = False
            except Exception:
                failed = True
            for message in batch:
                if message.outcome == "ack" or (message.outcome is None and not failed):
                    continue
                message.outcome = None
                if message.attempts <= queue.max_retries:
                    message.attempts += 1
                    queue.waiting.append(message)
                elif queue.dead_letter is not None:
                    queue.dead_letter.waiting.append(QueueMessage(message.body))

    async def scheduled(self) -> None:
        """The inference worker's cron trigger."""
        await Default(ExecutionContext(self.pending), self.inference_env).scheduled(SimpleNamespace(cron="*/5 * * * *"))
        await self.settle()

    def transport(self) -> httpx.BaseTransport:
        return _Transport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """For requests sent at once (an httpx.AsyncClient's, awaited together in `run`)."""
        return _AsyncTransport(self)


class _Transport(httpx.BaseTransport):
    """httpx's way into the host: a request sent through an httpx.Client is one `fetch`."""

    def __init__(self, host: InProcessHost) -> None:
        self._host = host

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        status, headers, content = self._host.run(self._host.fetch(request.method, path, request.headers.multi_items(), request.read()))
        return httpx.Response(status, headers=headers, content=content, request=request)


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, host: InProcessHost) -> None:
        self._host = host

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        status, headers, content = await self._host.fetch(request.method, path, request.headers.multi_items(), await request.aread())
        return httpx.Response(status, headers=headers, content=content, request=request)
