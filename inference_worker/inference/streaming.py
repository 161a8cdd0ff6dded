"""The answer's body: a ReadableStream the model's stream is piped into, through a TransformStream
whose transform is a Python callback. Each chunk the model sends costs one synchronous call into
Python (decode, encode, enqueue) and no await, task or timer of its own: the pipe, backpressure
included, runs in the runtime's own streams. The only module here that touches `js`."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from js import AbortController, Object, TransformStream
from pyodide.ffi import JsException, create_proxy, jsnull, to_js

from inference.ai_client import ClientGone, ModelStalled, ModelStreamBroken


def _options(**values: Any) -> Any:
    return Object.fromEntries(to_js(list(values.items())))


class AnswerBody:
    """`write` enqueues a piece of the answer; `pump` pipes the model's stream in, each chunk
    through `on_chunk` (bytes in, the text to send out); `close` ends the body cleanly and `fail`
    makes the client's read fail."""

    def __init__(self, on_chunk: Callable[[bytes], str]) -> None:
        self._on_chunk = on_chunk
        self._controller: Any = None
        self._callbacks = [create_proxy(self._start), create_proxy(self._transform)]
        stream = TransformStream.new(_options(start=self._callbacks[0], transform=self._callbacks[1]))
        self.readable = stream.readable
        self._writable = stream.writable
        self._stop = AbortController.new()
        self.last_chunk_at = time.monotonic()
        self.callback_error: Exception | None = None  # raised by on_chunk: the pipe was stopped for it

    def _start(self, controller: Any) -> None:
        self._controller = controller

    def _transform(self, chunk: Any, controller: Any) -> None:
        self.last_chunk_at = time.monotonic()
        try:
            text = self._on_chunk(chunk.to_bytes())
        except Exception as exc:  # raised into JS it would error the body before we could say why
            self.callback_error = exc
            self._stop.abort()
            return
        if text:
            controller.enqueue(to_js(text.encode()))

    def write(self, text: str) -> None:
        if not text:
            return
        try:
            self._controller.enqueue(to_js(text.encode()))
        except JsException as exc:  # the reader cancelled: the body is closed to us
            raise ClientGone(str(exc)) from exc

    def reader_behind(self) -> bool:
        """The reader has not taken what was sent yet (the pipe waits for it: not a stalled model)."""
        size = self._controller.desiredSize
        return size not in (None, jsnull) and size < 0

    def reader_gone(self) -> bool:
        # The writable side errors only when the readable side is cancelled: the pipe never aborts it.
        if self._writable.locked:
            return False
        writer = self._writable.getWriter()
        try:
            return writer.desiredSize in (None, jsnull)  # JS null: errored
        finally:
            writer.releaseLock()

    async def pump(self, source: Any, idle_timeout_s: float) -> None:
        """Pipes `source` (the model's ReadableStream) into the body until it ends. Raises
        ClientGone (the reader cancelled; the model's stream is cancelled with it), ModelStalled
        (nothing came for `idle_timeout_s` while the reader kept up), ModelStreamBroken (the
        model's stream failed), or what `on_chunk` raised."""
        watchdog = asyncio.ensure_future(self._watch(idle_timeout_s) if idle_timeout_s > 0 else asyncio.sleep(0, False))
        try:
            await source.pipeTo(self._writable, _options(preventClose=True, preventAbort=True, signal=self._stop.signal))
        except JsException as exc:
            if self.callback_error is not None:
                raise self.callback_error from exc
            if watchdog.done() and not watchdog.cancelled() and watchdog.result():
                raise ModelStalled(f"the model sent nothing for {idle_timeout_s:g} s") from exc
            if self.reader_gone():
                raise ClientGone(str(exc)) from exc
            raise ModelStreamBroken(str(exc)) from exc
        finally:
            watchdog.cancel()

    async def _watch(self, idle_timeout_s: float) -> bool:
        """Stops the pipe once the model has kept us waiting for `idle_timeout_s`; True if it did."""
        while True:
            await asyncio.sleep(max(0.0, self.last_chunk_at + idle_timeout_s - time.monotonic()))
            if self.reader_behind():
                self.last_chunk_at = time.monotonic()
            elif time.monotonic() - self.last_chunk_at >= idle_timeout_s:
                self._stop.abort()
                return True

    def close(self) -> None:
        try:
            self._controller.terminate()
        except JsException as exc:
            raise ClientGone(str(exc)) from exc
        finally:
            self.release()

    def fail(self, reason: str) -> None:
        """Ends the body abnormally: the client's read fails instead of seeing a clean end."""
        try:
            self._controller.error(reason)
        except JsException:
            pass
        finally:
            self.release()

    def release(self) -> None:
        """Frees the Python callbacks the stream holds (a proxy lives until destroyed); once the
        body has ended, however it ended. Idempotent."""
        for callback in self._callbacks:
            callback.destroy()
        self._callbacks = []
