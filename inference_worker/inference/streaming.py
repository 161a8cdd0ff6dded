"""The answer's body, and how the model's stream gets into it. The only module here that touches `js`.

Each entry into Python from the runtime costs tens of microseconds (a callback, or an awaited
read), more than the work on a token. So Python is not called per chunk: the runtime pipes the
model's stream, with no Python in the loop, into an inbox (a byte stream whose enqueue is the
pipe's sink), and Python reads the inbox with a BYOB reader, which takes everything queued
since the last read in one go. A model that sends tokens faster than they are relayed costs one
read per batch of tokens; one that sends them slowly, one read per token, as before. The answer
leaves as one chunk per read."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from js import AbortController, Object, ReadableStream, Uint8Array, WritableStream
from pyodide.ffi import JsException, create_once_callable, to_js

from inference.ai_client import ClientGone, ModelStalled, ModelStreamBroken

INBOX_READ_BYTES = 64 * 1024  # at most this much of the model's stream per read; more is read at once after


def _options(**values: Any) -> Any:
    return Object.fromEntries(to_js(list(values.items())))


class AnswerBody:
    """`write` enqueues a piece of the answer; `pump` reads the model's stream in, each read
    through `on_chunk` (bytes in, the text to send out); `close` ends the body cleanly and `fail`
    makes the client's read fail."""

    def __init__(self, on_chunk: Callable[[bytes], str]) -> None:
        self._on_chunk = on_chunk
        self._controller: Any = None
        self._stop = AbortController.new()  # stops the pipe from the model: the model's stream is cancelled
        # A reader that cancels the body stops the pipe (a bound runtime function: no Python to free later).
        self.readable = ReadableStream.new(_options(start=create_once_callable(self._start), cancel=self._stop.abort.bind(self._stop)))
        self.last_chunk_at = time.monotonic()

    def _start(self, controller: Any) -> None:
        self._controller = controller

    def write(self, text: str) -> None:
        if not text:
            return
        try:
            self._controller.enqueue(to_js(text.encode()))
        except JsException as exc:  # the reader cancelled: the body is closed to us
            raise ClientGone(str(exc)) from exc

    async def pump(self, source: Any, idle_timeout_s: float, flush_interval_s: float) -> None:
        """Reads `source` (the model's ReadableStream) into the body until it ends. Raises
        ClientGone (the reader cancelled; the model's stream is cancelled with it), ModelStalled
        (nothing came for `idle_timeout_s`), ModelStreamBroken (the model's stream failed), or
        what `on_chunk` raised (the model's stream is cancelled then too)."""
        inbox_controller: list[Any] = []
        inbox = ReadableStream.new(_options(type="bytes", start=create_once_callable(inbox_controller.append)))
        inbox_in = inbox_controller[0]
        # Bound runtime functions as the sink: the pipe moves each chunk with no call into Python.
        sink = WritableStream.new(_options(write=inbox_in.enqueue.bind(inbox_in), close=inbox_in.close.bind(inbox_in),
                                           abort=inbox_in.error.bind(inbox_in)))
        piped = source.pipeTo(sink, _options(signal=self._stop.signal))
        reader = inbox.getReader(_options(mode="byob"))
        watchdog = asyncio.ensure_future(self._watch(idle_timeout_s) if idle_timeout_s > 0 else asyncio.sleep(0, False))
        view = Uint8Array.new(INBOX_READ_BYTES)
        read_at = 0.0
        try:
            while True:
                result = await reader.read(view)
                if result.done:
                    break
                self.last_chunk_at = time.monotonic()
                received = result.value
                try:
                    self.write(self._on_chunk(received.to_bytes()))
                except BaseException:
                    self._stop.abort()  # the model's stream is cancelled: nobody will read it
                    raise
                view = Uint8Array.new(received.buffer)  # the read handed its buffer back: the next read fills it again
                if (wait := read_at + flush_interval_s - self.last_chunk_at) > 0:
                    await asyncio.sleep(wait)  # let what the model sends meanwhile pile up: one read for all of it
                read_at = self.last_chunk_at
        except JsException as exc:
            if watchdog.done() and not watchdog.cancelled() and watchdog.result():
                raise ModelStalled(f"the model sent nothing for {idle_timeout_s:g} s") from exc
            if self._stop.signal.aborted:  # not by the watchdog, nor for on_chunk (raised above): the reader cancelled
                raise ClientGone(str(exc)) from exc
            raise ModelStreamBroken(str(exc)) from exc
        finally:
            watchdog.cancel()
            try:
                await piped  # settled by now (ended, failed or stopped); awaited so no rejection goes unhandled
            except JsException:
                pass

    async def _watch(self, idle_timeout_s: float) -> bool:
        """Stops the pipe once the model has kept us waiting for `idle_timeout_s`; True if it did.
        The model's stream is read as it comes whatever the client's pace, so silence is the model's."""
        while True:
            await asyncio.sleep(max(0.0, self.last_chunk_at + idle_timeout_s - time.monotonic()))
            if time.monotonic() - self.last_chunk_at >= idle_timeout_s:
                self._stop.abort()
                return True

    def close(self) -> None:
        try:
            self._controller.close()
        except JsException as exc:
            raise ClientGone(str(exc)) from exc

    def fail(self, reason: str) -> None:
        """Ends the body abnormally: the client's read fails instead of seeing a clean end."""
        try:
            self._controller.error(reason)
        except JsException:
            pass
