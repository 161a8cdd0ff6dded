"""The few names the two workers import from the runtime (`workers`, `js`, `pyodide.ffi`), as
modules of Python stand-ins (tests/inprocess/streams.py for the streams), installed in
sys.modules so that the workers' own code imports and runs on CPython. A stand-in does what
the runtime's does for the workers' uses, no more: a name the workers do not use is absent, so
code that probes for a runtime feature (`from js import fetch`, `navigator`) finds it missing,
as on CPython."""

import json
import sys
from email.message import Message
from types import ModuleType
from typing import Any

from tests.inprocess import streams
from tests.inprocess.streams import JsException, JsFunction, JsObject, JsProxy, ReadableStream, Uint8Array, jsnull


class Headers:
    """The runtime's Headers: names case-insensitive; get gives null for a header not there."""

    def __init__(self, init: Any = None) -> None:
        self._items: dict[str, str] = {}
        pairs = init.items() if isinstance(init, dict) else (init or [])
        for name, value in pairs:
            self.append(name, value)

    def get(self, name: str) -> Any:
        return self._items.get(name.lower(), jsnull)

    def has(self, name: str) -> bool:
        return name.lower() in self._items

    def set(self, name: str, value: str) -> None:
        self._items[name.lower()] = str(value)

    def append(self, name: str, value: str) -> None:
        name = name.lower()
        self._items[name] = f"{self._items[name]}, {value}" if name in self._items else str(value)

    def delete(self, name: str) -> None:
        self._items.pop(name.lower(), None)

    def entries(self) -> list[tuple[str, str]]:
        return list(self._items.items())


def _stream_of(body: Any) -> ReadableStream | None:
    """A body as the runtime holds it: a ReadableStream (text and bytes as one chunk), or null."""
    if body is None or isinstance(body, ReadableStream):
        return body
    data = body.encode() if isinstance(body, str) else bytes(body)
    chunks: list[streams.ReadableStreamController] = []
    stream = ReadableStream(JsObject(start=chunks.append))
    if data:
        chunks[0].enqueue(Uint8Array(data))
    chunks[0].close()
    return stream


async def _read_all(stream: ReadableStream | None) -> bytes:
    if stream is None:
        return b""
    reader = stream.getReader()
    data = b""
    while not (result := await reader.read()).done:
        data += result.value.to_bytes()
    return data


class JsResponse(JsProxy):
    """The runtime's Response (what the SDK's wraps, and what crosses an RPC call)."""

    def __init__(self, body: Any = None, status: int = 200, headers: Headers | None = None) -> None:
        self.body = _stream_of(body)
        self.status = status
        self.ok = 200 <= status < 300
        self.headers = headers if headers is not None else Headers()

    async def arrayBuffer(self) -> Uint8Array:  # noqa: N802
        return Uint8Array(await _read_all(self.body))

    async def text(self) -> str:
        return (await _read_all(self.body)).decode()


class JsRequest(JsProxy):
    def __init__(self, method: str, url: str, headers: Headers, body: bytes | None) -> None:
        self.method, self.url, self.headers = method, url, headers
        self.body = _stream_of(body) if body else None

    async def arrayBuffer(self) -> Uint8Array:  # noqa: N802
        return Uint8Array(await _read_all(self.body))


class Response:
    """The SDK's Response: made of a body (text, bytes, a ReadableStream or None), a status and
    headers; `js_object` is the runtime's."""

    def __init__(self, body: Any = None, status: int | None = None, status_text: str = "", headers: dict[str, str] | None = None) -> None:
        self.js_object = JsResponse(body, status or 200, Headers(headers))

    @property
    def status(self) -> int:
        return self.js_object.status

    @property
    def headers(self) -> Message:  # the SDK copies the headers into an email.message
        message = Message()
        for name, value in self.js_object.headers.entries():
            message[name] = value
        return message


class Request:
    """The SDK's Request over the runtime's (`js_object`)."""

    def __init__(self, js_request: JsRequest) -> None:
        self.js_object = js_request

    @property
    def url(self) -> str:
        return self.js_object.url

    @property
    def body(self) -> ReadableStream | None:
        return self.js_object.body


class WorkerEntrypoint:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class DurableObject:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


def to_js(value: Any, dict_converter: Any = None, **_options: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return Uint8Array(value)
    if isinstance(value, dict):
        return dict_converter(list(value.items())) if dict_converter else JsObject(**value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


class _Proxy(JsFunction):
    def destroy(self) -> None:
        pass


def _from_entries(pairs: Any) -> JsObject:
    return JsObject(**dict(pairs))


def _js_value(value: Any) -> Any:
    if isinstance(value, dict):
        return JsObject(**{name: _js_value(item) for name, item in value.items()})
    if isinstance(value, list):
        return [_js_value(item) for item in value]
    return value


def _py_value(value: Any) -> Any:
    if isinstance(value, JsObject):
        return {name: _py_value(item) for name, item in vars(value).items()}
    if isinstance(value, list):
        return [_py_value(item) for item in value]
    return None if value is jsnull else value


def _module(name: str, **names: Any) -> ModuleType:
    module = ModuleType(name)
    vars(module).update(names)
    return module


def modules() -> dict[str, ModuleType]:
    js = _module(
        "js",
        AbortController=streams.AbortController, AbortSignal=streams.AbortSignal, Error=streams.Error,
        ReadableStream=ReadableStream, WritableStream=streams.WritableStream, TransformStream=streams.TransformStream,
        IdentityTransformStream=streams.TransformStream, Uint8Array=Uint8Array,
        Object=_module("Object", fromEntries=_from_entries),
        JSON=_module("JSON", parse=lambda text: _js_value(json.loads(text)),
                     stringify=lambda value: json.dumps(_py_value(value), separators=(",", ":"))),
    )
    ffi = _module("pyodide.ffi", JsException=JsException, JsProxy=JsProxy, jsnull=jsnull, to_js=to_js,
                  create_proxy=_Proxy, create_once_callable=lambda function: function)
    pyodide = _module("pyodide", ffi=ffi)
    pyodide.__path__ = []  # a package, so that `pyodide.ffi` imports from it
    workers = _module("workers", Response=Response, Request=Request, WorkerEntrypoint=WorkerEntrypoint, DurableObject=DurableObject)
    return {"js": js, "pyodide": pyodide, "pyodide.ffi": ffi, "workers": workers}


def install() -> None:
    """The stand-ins in sys.modules, before any worker module is imported."""
    sys.modules.update(modules())
