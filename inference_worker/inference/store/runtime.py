"""The runtime's own binding objects (the store's, and the AI binding), spoken to directly. The SDK hands Python each binding in a
wrapper that converts every argument and every result value by value, recursively and with
type checks, on every call (a 100-event batch: ~1,000 conversions); here a call's arguments
are converted once (JSON text and one JSON.parse), and a result with one `to_py`. The store's classes talk to
these adapters exactly as they talk to the test fakes (tests/fakes.py). The only store module
that touches `js` and `pyodide`."""

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from js import JSON, AbortController, Error
from pyodide.ffi import JsProxy, jsnull, to_js

from shared.json_reader import parse_internal

CALLER_GAVE_UP = "the caller stopped waiting (its deadline passed)"


def js_value(value: Any) -> Any:
    """A Python value as the JavaScript one a binding expects: dicts as plain objects, None as null
    at any depth. Containers go through JSON text and one JSON.parse: `to_js` turns a nested None
    into undefined (a JSON Schema's `"enum": [null]` reached the model as `[undefined]`, found by
    make fuzz), and one parse in C++ is also cheaper than converting value by value."""
    if value is None:
        return jsnull
    return JSON.parse(json.dumps(value)) if isinstance(value, (dict, list, tuple)) else value


async def cancelled_with_caller(call: Callable[[Any], Any]) -> Any:
    """Awaits `call(signal)`, a runtime call that takes an AbortSignal (fetch's, the AI binding's).
    A caller that stops waiting (its deadline passed) aborts the signal: the request is cancelled,
    not left to answer later with a stream that nobody would read or cancel."""
    controller = AbortController.new()
    try:
        return await call(controller.signal)
    except asyncio.CancelledError:
        controller.abort(Error.new(CALLER_GAVE_UP))  # an Error: what the call rejects with
        raise


def with_signal(options: dict[str, Any], signal: Any) -> Any:
    """`options` as a plain object, with the AbortSignal `signal` (not JSON: set after)."""
    converted = js_value(options)
    converted.signal = signal
    return converted


def py_value(value: Any) -> Any:
    if value is None or value is jsnull:
        return None
    return value.to_py() if isinstance(value, JsProxy) else value


def _present(value: Any) -> Any:
    """A JavaScript object as it is, or None for null."""
    return None if value is None or value is jsnull else value


def _row(row: Any) -> dict[str, Any] | None:
    converted = py_value(row)
    return None if converted is None else {key: py_value(value) for key, value in converted.items()}


def _result(result: Any) -> SimpleNamespace:
    """A D1Result as the store reads it: `results` (rows as dicts) and `meta.changes`."""
    return SimpleNamespace(results=[_row(row) for row in result.results], meta=SimpleNamespace(changes=int(result.meta.changes)))


class Statement:
    def __init__(self, statement: Any) -> None:
        self.js = statement

    def bind(self, *params: Any) -> "Statement":
        # D1 refuses undefined, which is what a bare None would become.
        self.js = self.js.bind(*(jsnull if param is None else param for param in params))
        return self

    async def first(self) -> dict[str, Any] | None:
        return _row(await self.js.first())

    async def all(self) -> SimpleNamespace:
        return _result(await self.js.all())

    async def run(self) -> SimpleNamespace:
        return _result(await self.js.run())


class D1:
    def __init__(self, binding: Any) -> None:
        self._d1 = binding

    def prepare(self, sql: str) -> Statement:
        return Statement(self._d1.prepare(sql))

    async def batch(self, statements: list[Statement]) -> list[SimpleNamespace]:
        results = await self._d1.batch(to_js([statement.js for statement in statements]))
        return [_result(result) for result in results]


class KV:
    def __init__(self, binding: Any) -> None:
        self._kv = binding

    async def get(self, key: str) -> str | None:
        return py_value(await self._kv.get(key))

    async def put(self, key: str, value: str, expirationTtl: int | None = None) -> None:  # noqa: N803 (KV's own name)
        await self._kv.put(key, value, js_value({"expirationTtl": expirationTtl} if expirationTtl else {}))


class R2:
    """Listings and objects stay JavaScript objects (their fields are read as attributes)."""

    def __init__(self, binding: Any) -> None:
        self._r2 = binding

    async def put(self, key: str, body: str, options: dict | None = None) -> Any:
        return await self._r2.put(key, body, js_value(options or {}))

    async def get(self, key: str) -> Any:
        return _present(await self._r2.get(key))

    async def head(self, key: str) -> Any:
        return _present(await self._r2.head(key))

    async def list(self, options: dict) -> Any:
        return await self._r2.list(js_value(options))

    async def delete(self, key: str) -> None:
        await self._r2.delete(key)


class AnalyticsEngine:
    def __init__(self, binding: Any) -> None:
        self._ae = binding

    def writeDataPoint(self, point: dict) -> None:  # noqa: N802 (the binding's own name)
        self._ae.writeDataPoint(js_value(point))

    def writeDataPoints(self, points: list[dict]) -> list[str | None]:  # noqa: N802 (named after the binding's)
        """Each point written, all of them converted in one crossing; per point, None or why it was not."""
        converted = js_value(points)
        outcomes: list[str | None] = []
        for index in range(len(points)):
            try:
                self._ae.writeDataPoint(converted[index])
                outcomes.append(None)
            except Exception as exc:  # e.g. past the invocation's 25 writes
                outcomes.append(str(exc))
        return outcomes


class WorkersAI:
    """A streamed answer stays the runtime's ReadableStream; any other answer becomes Python data
    through its JSON text (an embedding's vectors included). `options`: the binding's third
    argument (AI Gateway's, inference/gateway.py)."""

    def __init__(self, binding: Any) -> None:
        self._ai = binding

    @property
    def gateway_log_id(self) -> str | None:
        """The AI Gateway log of the call that ended last: the binding's own attribute, read right
        after each call (the binding is the isolate's, shared by its concurrent requests)."""
        return _present(getattr(self._ai, "aiGatewayLogId", None))

    async def run(self, model: str, inputs: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        answer = await cancelled_with_caller(lambda signal: self._ai.run(model, js_value(inputs), with_signal(options or {}, signal)))
        if inputs.get("stream"):
            return answer
        if answer is None or answer is jsnull:
            return None
        # As JSON text through the reader rather than `to_py`, which recurses once a level: a
        # model's JSON-mode answer nested thousands deep would overflow the stack converting it.
        return parse_internal(JSON.stringify(answer), field=f"{model}'s answer")

    async def run_vectors_json(self, model: str, inputs: dict[str, Any], options: dict[str, Any] | None = None) -> str:
        """An embedding model's vectors (its answer's `data`) as JSON text, written by the runtime:
        never one Python float (shared/embeddings.py)."""
        return JSON.stringify((await self._ai.run(model, js_value(inputs), js_value(options or {}))).data)


class QueueMessage:
    """A delivered message as the consumer reads it: its body (JSON text), its attempts so far,
    and ack() / retry(delay_seconds)."""

    def __init__(self, message: Any) -> None:
        self._message = message
        self.body = message.body
        self.attempts = int(message.attempts)

    def ack(self) -> None:
        self._message.ack()

    def retry(self, delay_seconds: int) -> None:
        self._message.retry(js_value({"delaySeconds": delay_seconds}))


class Vectorize:
    """Vectors go in as JSON text and one JSON.parse; a query's matches come back as Python data in one `to_py`."""

    def __init__(self, binding: Any) -> None:
        self._index = binding

    async def upsert_json(self, vectors_json: str) -> Any:
        """Vectors given as JSON text (store/vectors.py writes it): one JSON.parse in the runtime."""
        return await self._index.upsert(JSON.parse(vectors_json))

    async def query(self, vector: list[float], options: dict) -> dict:
        return py_value(await self._index.query(js_value(vector), js_value(options)))

    async def deleteByIds(self, ids: list[str]) -> Any:  # noqa: N802 (the binding's own name)
        return await self._index.deleteByIds(js_value(ids))

    async def describe(self) -> dict:
        return py_value(await self._index.describe())


class CacheApi:
    """The data center's Cache API (`caches.default`): text kept under a URL for a time."""

    def __init__(self, cache: Any, response: Any) -> None:
        self._cache, self._response = cache, response

    async def read_text(self, url: str) -> str | None:
        found = _present(await self._cache.match(url))
        return None if found is None else await found.text()

    async def write_text(self, url: str, text: str, ttl_seconds: int) -> None:
        headers = {"content-type": "application/json", "cache-control": f"max-age={ttl_seconds}"}
        await self._cache.put(url, self._response.new(text, js_value({"headers": headers})))


def default_cache() -> CacheApi:
    # Read when first used: the names exist in the runtime, not in the stand-ins a worker's top level is checked with.
    from js import Response, caches

    return CacheApi(caches.default, Response)
