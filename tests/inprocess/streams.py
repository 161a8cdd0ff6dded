"""The web streams the two workers use, in Python on asyncio, as the runtime's behave for them:
ReadableStream (default and byte streams, readers, BYOB reads, pipeTo with an abort signal and
preventCancel, cancel), WritableStream (start, write, close, abort; a sink errored by its
controller), TransformStream (identity), AbortController / AbortSignal (any, listeners) and
Uint8Array. A promise is an asyncio future; a rejection reaches Python as JsException, as in
Pyodide. Queues are unbounded apart from desiredSize: backpressure is workerd's to test."""

import asyncio
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any


class JsException(Exception):  # noqa: N818 (Pyodide's name)
    """A JavaScript error thrown or a promise rejected, as Python sees it."""


class JsProxy:
    """A JavaScript object seen from Python."""


class JsObject(JsProxy):
    """A plain object: its properties as attributes (undefined ones read as None, as JS would)."""

    def __init__(self, **properties: Any) -> None:
        vars(self).update(properties)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def to_py(self) -> dict[str, Any]:
        return {name: value.to_py() if isinstance(value, JsObject) else value for name, value in vars(self).items()}


class _JsNull:
    """JavaScript's null: falsy, and not None (a header the request lacks is null)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "jsnull"


jsnull = _JsNull()


class JsFunction:
    """A JavaScript function: callable, arguments beyond those it takes ignored (as JavaScript
    does: a pipe calls its sink's write with the chunk and the controller); `bind(this, *args)`
    gives it its leading arguments."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call
        parameters = inspect.signature(call).parameters.values()
        takes_any = any(p.kind == p.VAR_POSITIONAL for p in parameters)
        self._arity = None if takes_any else sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)

    def __call__(self, *args: Any) -> Any:
        return self._call(*args[:self._arity])

    def bind(self, _this: Any, *bound: Any) -> "JsFunction":
        return JsFunction(lambda *args: self(*bound, *args))


class js_method:  # noqa: N801 (used as a decorator)
    """A method read from an instance is a JsFunction (so it can be bound, as the workers do)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self._function = function

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self._function
        return JsFunction(self._function.__get__(instance, owner))


class Error:
    """A JavaScript Error: String(error) is "Error: <message>"."""

    def __init__(self, message: str = "") -> None:
        self.message = message

    @classmethod
    def new(cls, message: str = "") -> "Error":
        return cls(message)

    def __str__(self) -> str:
        return f"Error: {self.message}"


class TypeError_(Error):  # noqa: N801
    def __str__(self) -> str:
        return f"TypeError: {self.message}"


ABORTED = "AbortError: This operation was aborted"


def _rejection(reason: Any) -> JsException:
    return reason if isinstance(reason, JsException) else JsException(str(reason) if reason is not None else "undefined")


async def _settled(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _resolved(value: Any = None) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def _rejected(reason: Any) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    future.set_exception(_rejection(reason))
    future.add_done_callback(lambda f: f.exception())  # a rejection nobody awaits is not an error
    return future


class AbortSignal:
    def __init__(self) -> None:
        self.aborted = False
        self.reason: Any = None
        self._listeners: list[Any] = []

    def addEventListener(self, _type: str, listener: Any, _options: Any = None) -> None:  # noqa: N802
        self._listeners.append(listener)

    def removeEventListener(self, _type: str, listener: Any, _options: Any = None) -> None:  # noqa: N802
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _abort(self, reason: Any) -> None:
        if self.aborted:
            return
        self.aborted, self.reason = True, reason if reason is not None else ABORTED
        for listener in list(self._listeners):
            listener(JsObject(type="abort", target=self))

    @staticmethod
    def any(signals: list["AbortSignal"]) -> "AbortSignal":
        combined = AbortSignal()
        for signal in signals:
            if signal.aborted:
                combined._abort(signal.reason)
                return combined
        for signal in signals:
            signal.addEventListener("abort", lambda _event, source=signal: combined._abort(source.reason))
        return combined


class AbortController:
    def __init__(self) -> None:
        self.signal = AbortSignal()

    @classmethod
    def new(cls) -> "AbortController":
        return cls()

    @js_method
    def abort(self, reason: Any = None) -> None:
        self.signal._abort(reason)


class ArrayBuffer:
    def __init__(self, size: int) -> None:
        self.byteLength = size


class Uint8Array:
    def __init__(self, data: bytes, buffer: ArrayBuffer | None = None) -> None:
        self._data = bytes(data)
        self.buffer = buffer or ArrayBuffer(len(self._data))
        self.byteLength = self.length = len(self._data)

    @classmethod
    def new(cls, source: "int | ArrayBuffer | bytes") -> "Uint8Array":
        if isinstance(source, int):
            return cls(bytes(source))
        if isinstance(source, ArrayBuffer):
            return cls(bytes(source.byteLength), source)
        return cls(source)

    def to_bytes(self) -> bytes:
        return self._data


def _bytes_of(chunk: Any) -> bytes:
    if isinstance(chunk, Uint8Array):
        return chunk.to_bytes()
    if isinstance(chunk, (bytes, bytearray)):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode()
    raise JsException("TypeError: chunk is not an ArrayBuffer view")


def _option(options: Any, name: str, default: Any = None) -> Any:
    if options is None:
        return default
    value = options.get(name) if isinstance(options, dict) else getattr(options, name, None)
    return default if value is None else value


class ReadableStreamController:
    def __init__(self, stream: "ReadableStream") -> None:
        self._stream = stream

    @property
    def desiredSize(self) -> float | None:  # noqa: N802
        stream = self._stream
        if stream._state == "errored":
            return None
        if stream._state == "closed":
            return 0
        return stream._high_water_mark - len(stream._queue)

    @js_method
    def enqueue(self, chunk: Any) -> None:
        stream = self._stream
        if stream._state != "readable" or stream._close_requested:
            raise JsException("TypeError: This ReadableStream is closed")
        stream._queue.append(Uint8Array(_bytes_of(chunk)) if stream._bytes else chunk)
        stream._serve()

    @js_method
    def close(self) -> None:
        stream = self._stream
        if stream._state != "readable" or stream._close_requested:
            raise JsException("TypeError: This ReadableStream is closed")
        stream._close_requested = True
        stream._serve()

    @js_method
    def error(self, reason: Any = None) -> None:
        self._stream._error(reason)


class ReadableStream:
    """`options`: start(controller), pull(controller) (awaited; asked for a chunk whenever a read
    waits on an empty queue), cancel(reason); type "bytes" makes a byte stream (BYOB reads)."""

    def __init__(self, options: Any = None, strategy: Any = None) -> None:
        self._bytes = _option(options, "type") == "bytes"
        self._high_water_mark = _option(strategy, "highWaterMark", 0 if self._bytes else 1)
        self._pull = _option(options, "pull")
        self._on_cancel = _option(options, "cancel")
        self._queue: deque[Any] = deque()
        self._state = "readable"  # readable, closed, errored
        self._close_requested = False
        self._stored_error: Any = None
        self._reads: deque[tuple[asyncio.Future, int | None]] = deque()  # pending reads: (future, BYOB size)
        self._pulling: asyncio.Task | None = None
        self.locked = False
        self._controller = ReadableStreamController(self)
        if start := _option(options, "start"):
            start(self._controller)

    @classmethod
    def new(cls, options: Any = None, strategy: Any = None) -> "ReadableStream":
        return cls(options, strategy)

    # -- the queue and its reads
    def _serve(self) -> None:
        while self._reads and (self._queue or self._state != "readable" or self._close_requested):
            future, size = self._reads.popleft()
            if future.done():
                continue
            if self._state == "errored":
                future.set_exception(_rejection(self._stored_error))
            elif self._queue:
                future.set_result(JsObject(done=False, value=self._take(size)))
            else:
                self._state = "closed"
                future.set_result(JsObject(done=True, value=None))
        if self._close_requested and not self._queue and self._state == "readable":
            self._state = "closed"
        if self._reads and self._pull is not None and self._state == "readable" and self._pulling is None:
            self._pulling = asyncio.ensure_future(self._pull_once())

    def _take(self, size: int | None) -> Any:
        if size is None:
            return self._queue.popleft()
        taken = b""
        while self._queue and len(taken) < size:
            chunk = self._queue.popleft().to_bytes()
            room = size - len(taken)
            if len(chunk) > room:
                self._queue.appendleft(Uint8Array(chunk[room:]))
                chunk = chunk[:room]
            taken += chunk
        return Uint8Array(taken, ArrayBuffer(size))

    async def _pull_once(self) -> None:
        try:
            await _settled(self._pull(self._controller))
        except Exception as exc:
            self._error(exc)
        finally:
            self._pulling = None
        self._serve()

    def _read(self, size: int | None = None) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._reads.append((future, size))
        self._serve()
        return future

    def _error(self, reason: Any) -> None:
        if self._state != "readable":
            return
        self._state, self._stored_error = "errored", reason
        self._queue.clear()
        self._serve()

    async def _cancel(self, reason: Any) -> None:
        if self._state == "closed":
            return
        if self._state == "errored":
            raise _rejection(self._stored_error)
        self._queue.clear()
        self._state = "closed"
        self._serve()
        if self._on_cancel is not None:
            await _settled(self._on_cancel(reason))

    # -- the API
    def getReader(self, options: Any = None) -> "ReadableStreamReader":  # noqa: N802
        if self.locked:
            raise JsException("TypeError: This ReadableStream is currently locked to a reader")
        return ReadableStreamReader(self, byob=_option(options, "mode") == "byob")

    def cancel(self, reason: Any = None) -> asyncio.Future:
        if self.locked:
            return _rejected(TypeError_("This ReadableStream is currently locked to a reader"))
        return asyncio.ensure_future(self._cancel(reason))

    def pipeTo(self, destination: "WritableStream", options: Any = None) -> asyncio.Future:  # noqa: N802
        if self.locked or destination.locked:
            return _rejected(TypeError_("The stream is locked"))
        task = asyncio.ensure_future(_pipe(self, destination, _option(options, "signal"), bool(_option(options, "preventCancel"))))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a rejection nobody awaits is not an error
        return task

    def pipeThrough(self, transform: "TransformStream", options: Any = None) -> "ReadableStream":  # noqa: N802
        self.pipeTo(transform.writable, options)
        return transform.readable


class ReadableStreamReader:
    def __init__(self, stream: ReadableStream, byob: bool) -> None:
        self._stream: ReadableStream | None = stream
        self._byob = byob
        stream.locked = True

    def read(self, view: Uint8Array | None = None) -> asyncio.Future:
        if self._stream is None:
            return _rejected(TypeError_("This reader has been released"))
        return self._stream._read(view.byteLength if self._byob and view is not None else None)

    def releaseLock(self) -> None:  # noqa: N802
        stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.locked = False
        while stream._reads:  # a read still waiting fails: the reader that made it is gone
            future, _ = stream._reads.popleft()
            if not future.done():
                future.set_exception(JsException("TypeError: This reader has been released"))
                future.add_done_callback(lambda f: f.exception())

    def cancel(self, reason: Any = None) -> asyncio.Future:
        if self._stream is None:
            return _rejected(TypeError_("This reader has been released"))
        return asyncio.ensure_future(self._stream._cancel(reason))


class WritableStreamController:
    def __init__(self, stream: "WritableStream") -> None:
        self._stream = stream

    @js_method
    def error(self, reason: Any = None) -> None:
        self._stream._error(reason)


class WritableStream:
    """`options`: start(controller), write(chunk, controller), close(), abort(reason) (each awaited)."""

    def __init__(self, options: Any = None) -> None:
        self._sink = options
        self._state = "writable"  # writable, closed, errored
        self._stored_error: Any = None
        self._errored = asyncio.get_event_loop().create_future()  # set once the stream errors
        self.locked = False
        self._controller = WritableStreamController(self)
        if start := _option(options, "start"):
            start(self._controller)

    @classmethod
    def new(cls, options: Any = None) -> "WritableStream":
        return cls(options)

    def _error(self, reason: Any) -> None:
        if self._state != "writable":
            return
        self._state, self._stored_error = "errored", reason
        if not self._errored.done():
            self._errored.set_result(reason)

    async def _write(self, chunk: Any) -> None:
        if self._state != "writable":
            raise _rejection(self._stored_error if self._state == "errored" else "TypeError: This WritableStream is closed")
        if write := _option(self._sink, "write"):
            try:
                await _settled(write(chunk, self._controller))
            except Exception as exc:
                self._error(exc)
                raise _rejection(exc) from None
        if self._state == "errored":
            raise _rejection(self._stored_error)

    async def _close(self) -> None:
        if self._state != "writable":
            return
        self._state = "closed"
        if close := _option(self._sink, "close"):
            await _settled(close())

    async def _abort(self, reason: Any) -> None:
        if self._state != "writable":
            return
        self._error(reason)
        if abort := _option(self._sink, "abort"):
            await _settled(abort(reason))


class TransformStream:
    """The identity transform (all the workers ask of one): what is written comes out readable."""

    def __init__(self) -> None:
        readable_controller: list[ReadableStreamController] = []
        self.readable = ReadableStream(JsObject(start=readable_controller.append, cancel=self._cancelled))
        out = readable_controller[0]
        self.writable = WritableStream(JsObject(write=lambda chunk, _controller: out.enqueue(chunk), close=out.close,
                                                abort=out.error))

    @classmethod
    def new(cls) -> "TransformStream":
        return cls()

    def _cancelled(self, reason: Any) -> None:
        self.writable._error(reason)  # the reader went away: the writer's next write (a pipe's) fails


async def _pipe(source: ReadableStream, destination: WritableStream, signal: AbortSignal | None, prevent_cancel: bool) -> None:
    """pipeTo: chunks from `source` into `destination` until the source ends (the destination is
    closed), fails (it is aborted), the destination errors (the source is cancelled), or `signal`
    aborts (both, the source unless preventCancel); rejects with why it stopped."""
    reader = source.getReader()
    destination.locked = True
    aborted = asyncio.get_running_loop().create_future()

    def on_abort(_event: Any) -> None:
        if not aborted.done():
            aborted.set_result(signal.reason)

    if signal is not None:
        if signal.aborted:
            on_abort(None)
        signal.addEventListener("abort", on_abort)
    try:
        while True:
            read = asyncio.ensure_future(reader.read())
            await asyncio.wait([read, aborted, destination._errored], return_when=asyncio.FIRST_COMPLETED)
            if aborted.done():
                _unread(source, read)
                reason = aborted.result()
                await destination._abort(reason)
                reader.releaseLock()
                if not prevent_cancel:
                    await _quietly(source._cancel(reason))
                raise _rejection(reason)
            if destination._errored.done():
                _unread(source, read)
                reason = destination._stored_error
                reader.releaseLock()
                if not prevent_cancel:
                    await _quietly(source._cancel(reason))
                raise _rejection(reason)
            try:
                result = read.result()
            except JsException as exc:  # the source failed
                await destination._abort(exc)
                raise
            if result.done:
                await destination._close()
                return
            try:
                await destination._write(result.value)
            except JsException:
                reader.releaseLock()
                if not prevent_cancel:
                    await _quietly(source._cancel(destination._stored_error))
                raise
    finally:
        if signal is not None:
            signal.removeEventListener("abort", on_abort)
        reader.releaseLock()
        destination.locked = False


def _unread(source: ReadableStream, read: asyncio.Future) -> None:
    """A read the pipe gives up on: a chunk it already took goes back to the front of the source
    (the pipe stopped before writing it: whoever reads the source next gets it)."""
    if not read.done():
        read.cancel()
    elif not read.cancelled() and read.exception() is None and not read.result().done:
        source._queue.appendleft(read.result().value)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except JsException:
        pass
