"""The answer's body, and how the model's stream gets into it. The only module here that touches `js`.

Each entry into Python from the runtime costs tens of microseconds, more than the work on a
token, and an awaited read costs a turn of the event loop besides (asyncio resumes through a
timer). So the model's stream is relayed in one of two ways, chosen by how its chunks come:
- chunk by chunk, while they come slower than STREAM_FLUSH_MS apart (a model generating at its
  usual pace): the runtime pipes the stream into a sink whose `write` is a Python callback, one
  synchronous call a chunk, no await;
- in batches, from the first chunk that comes sooner than that after the one before (a model
  faster than the relay, or chunks that queued up): the runtime pipes the rest, with no Python
  in the loop, into an inbox (a byte stream whose `enqueue` is the pipe's sink), and Python reads
  it with a BYOB reader, which takes everything queued since its last read, at most once per
  STREAM_FLUSH_MS; what it took leaves as one chunk."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from js import AbortController, AbortSignal, Object, ReadableStream, Uint8Array, WritableStream
from pyodide.ffi import JsException, create_once_callable, create_proxy, to_js

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
        """Relays `source` (the model's ReadableStream) into the body until it ends. Raises
        ClientGone (the reader cancelled; the model's stream is cancelled with it), ModelStalled
        (nothing came for `idle_timeout_s`), ModelStreamBroken (the model's stream failed), or
        what `on_chunk` raised (the model's stream is cancelled then too)."""
        watchdog = asyncio.ensure_future(self._watch(idle_timeout_s) if idle_timeout_s > 0 else asyncio.sleep(0, False))
        try:
            rest = await self._chunk_by_chunk(source, flush_interval_s)
            if rest is not None:
                await self._in_batches(rest, flush_interval_s)
        except _ReadFailed as exc:
            if watchdog.done() and not watchdog.cancelled() and watchdog.result():
                raise ModelStalled(f"the model sent nothing for {idle_timeout_s:g} s") from exc
            if self._stop.signal.aborted:  # not by the watchdog, nor for on_chunk (raised as itself): the reader cancelled
                raise ClientGone(str(exc)) from exc
            raise ModelStreamBroken(str(exc)) from exc
        finally:
            watchdog.cancel()

    def relay(self, received: bytes) -> None:
        """A piece of the model's stream: its text for the client, enqueued."""
        self.last_chunk_at = time.monotonic()
        try:
            self.write(self._on_chunk(received))
        except BaseException:
            self._stop.abort()  # the model's stream is cancelled: nobody will read it
            raise

    async def _chunk_by_chunk(self, source: Any, flush_interval_s: float) -> Any:
        """Pipes `source` into a Python sink until it ends (None) or a chunk comes within
        `flush_interval_s` of the one before (`source`, unlocked, the rest of it still to read)."""
        switch = AbortController.new()
        failed: list[BaseException] = []

        def write(chunk: Any, _controller: Any = None) -> None:
            fast = time.monotonic() - self.last_chunk_at < flush_interval_s
            try:
                self.relay(chunk.to_bytes())
            except BaseException as exc:  # raised into the runtime it would reach us as a JsException
                failed.append(exc)
                return
            if fast:
                switch.abort()

        sink_write = create_proxy(write)
        stops = AbortSignal.any(to_js([self._stop.signal, switch.signal]))
        try:
            # preventCancel: a switch hands the source on; a stop cancels it below, once the pipe let go of it.
            await source.pipeTo(WritableStream.new(_options(write=sink_write)), _options(signal=stops, preventCancel=True))
            return None
        except JsException as exc:
            if not failed and switch.signal.aborted and not self._stop.signal.aborted:
                return source
            try:
                await source.cancel()  # the model stops generating (a stream that failed ignores it)
            except JsException:
                pass
            if failed:
                raise failed[0] from None
            raise _ReadFailed(str(exc)) from exc
        finally:
            sink_write.destroy()

    async def _in_batches(self, source: Any, flush_interval_s: float) -> None:
        """Pipes `source` into the inbox and relays what it holds, a read at a time."""
        inbox_controller: list[Any] = []
        inbox = ReadableStream.new(_options(type="bytes", start=create_once_callable(inbox_controller.append)))
        inbox_in = inbox_controller[0]
        # Bound runtime functions as the sink: the pipe moves each chunk with no call into Python.
        sink = WritableStream.new(_options(write=inbox_in.enqueue.bind(inbox_in), close=inbox_in.close.bind(inbox_in),
                                           abort=inbox_in.error.bind(inbox_in)))
        piped = source.pipeTo(sink, _options(signal=self._stop.signal))
        reader = inbox.getReader(_options(mode="byob"))
        view = Uint8Array.new(INBOX_READ_BYTES)
        read_at = 0.0
        try:
            while True:
                try:
                    result = await reader.read(view)
                except JsException as exc:
                    raise _ReadFailed(str(exc)) from exc
                if result.done:
                    break
                received = result.value
                self.relay(received.to_bytes())
                view = Uint8Array.new(received.buffer)  # the read handed its buffer back: the next read fills it again
                if (wait := read_at + flush_interval_s - self.last_chunk_at) > 0:
                    await asyncio.sleep(wait)  # let what the model sends meanwhile pile up: one read for all of it
                read_at = self.last_chunk_at
        finally:
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


class _ReadFailed(Exception):
    """The model's stream could not be read on: it failed, or the pipe was stopped."""
