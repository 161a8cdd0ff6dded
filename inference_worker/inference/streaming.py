"""The answer's body, and how the model's stream gets into it. The only module here that touches `js`.

Each entry into Python from the runtime costs tens of microseconds, more than the work on a
token, and an awaited read costs a turn of the event loop besides (asyncio resumes through a
timer). So the model's stream is relayed in one of two ways, chosen by how its chunks come:
- chunk by chunk, while they come slower than STREAM_FLUSH_MS apart (a model generating at its
  usual pace): the runtime pipes the stream into a sink whose `write` is a Python callback, one
  synchronous call a chunk, no await;
- in batches, once FAST_CHUNKS_TO_BATCH chunks in a row came sooner than that after the one
  before (a model faster than the relay, or chunks that queued up): the runtime pipes the rest, with no Python
  in the loop, into an inbox (a byte stream whose `enqueue` is the pipe's sink), and Python reads
  it with a BYOB reader, which takes everything queued since its last read, at most once per
  STREAM_FLUSH_MS (the model's stream ending cuts that wait short); what it took leaves as one chunk.

Either way one AbortController, the body's stop, ends the relay: the reader cancelling the body
(the client went away), the watchdog's timer (a deadline passed), or a chunk we cannot relay.
The runtime checks a pipe's abort signal only between chunks, so a stop also errors the pipe's
sink, which makes it let go of the model's stream at once, and cancels that stream: a model that
never sends again cannot hold the relay open."""

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from js import AbortController, AbortSignal, Error, Object, ReadableStream, Uint8Array, WritableStream
from pyodide.ffi import JsException, create_once_callable, create_proxy, to_js

from inference.ai_client import ClientGone, ModelStreamBroken
from inference.deadlines import StreamDeadlines

# Chunks in a row sooner than STREAM_FLUSH_MS apart that switch the relay to batches. An answer's
# tail (the last token, its finish reason, the usage, [DONE]) comes at once, so a short answer
# stays chunk by chunk: switching costs more turns of the event loop than its few chunks, and its
# end would wait for them.
FAST_CHUNKS_TO_BATCH = 8
INBOX_READ_BYTES = 64 * 1024  # at most this much of the model's stream per read; more is read at once after
CLIENT_GONE = "the client went away"  # why the model's stream is cancelled when the reader cancels the body
DRAIN_POLL_S = 0.005  # how often a failing body looks whether its reader took what was written
DRAIN_TIMEOUT_S = 2.0  # a failing body waits at most this long for its reader to take what was written
# A body fails no sooner than this after it was handed out: the api worker relays it, and its
# response's head goes out only once the api returned it; a body that failed before that point
# (an answer that fails its check at once) would drop the connection with no head at all.
HEAD_GRACE_S = 0.5


def _options(**values: Any) -> Any:
    return Object.fromEntries(to_js(list(values.items())))


class AnswerBody:
    """`write` enqueues a piece of the answer; `pump` reads the model's stream in, each read
    through `on_chunk` (bytes in, the text to send out); `close` ends the body cleanly and `fail`
    makes the client's read fail."""

    def __init__(self, on_chunk: Callable[[bytes], str]) -> None:
        self._on_chunk = on_chunk
        self._controller: Any = None
        self._gone = AbortController.new()  # the reader cancelled the body
        self._stop = self._new_stop()  # stops the pipe from the model: the model's stream is cancelled
        self._halted_by: ModelStreamBroken | None = None  # the deadline the watchdog stopped the pipe for
        self._source: Any = None  # the model's stream, while it is relayed
        self._sinks: list[Any] = []  # the controllers a stop errors: the pipe's sink, the inbox
        self._cancelling: asyncio.Future | None = None  # the stop's cancel of the model's stream (kept: a task is weakly held)
        # A reader that cancels the body stops the pipe (a bound runtime function: no Python to free later).
        # Reasons are Errors: a promise rejected with anything else cannot be awaited from Python.
        self.readable = ReadableStream.new(_options(start=create_once_callable(self._start),
                                                    cancel=self._gone.abort.bind(self._gone, Error.new(CLIENT_GONE))))
        self.last_chunk_at = self.opened_at = time.monotonic()

    def _new_stop(self) -> Any:
        """A stop for one model's stream, which the reader cancelling also aborts."""
        stop = AbortController.new()
        self._gone.signal.addEventListener("abort", stop.abort.bind(stop, Error.new(CLIENT_GONE)))
        return stop

    def rearm(self) -> None:
        """Ready to relay another model's stream after one broke (a continuation): a fresh stop,
        and the silence counted from now."""
        if self._stop.signal.aborted and not self._gone.signal.aborted:
            self._stop = self._new_stop()
        self._halted_by = None
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

    async def pump(self, source: Any, deadlines: StreamDeadlines, flush_interval_s: float) -> None:
        """Relays `source` (the model's ReadableStream) into the body until it ends. Raises
        ClientGone (the reader cancelled), the ModelStalled or ModelTimedOut of `deadlines` (one
        passed), ModelStreamBroken (the model's stream failed), or what `on_chunk` raised; in
        every case but the model's stream failing, that stream is cancelled."""
        on_stop = create_proxy(self._stopped)
        self._stop.signal.addEventListener("abort", on_stop)
        self._source = source
        watchdog = asyncio.ensure_future(self._watch(deadlines))
        try:
            rest = await self._chunk_by_chunk(source, flush_interval_s)
            if rest is not None:
                await self._in_batches(rest, flush_interval_s)
        except _ReadFailed as exc:
            if self._halted_by is not None:
                raise self._halted_by from exc
            if self._stop.signal.aborted:  # not by the watchdog, nor for on_chunk (raised as itself): the reader cancelled
                raise ClientGone(str(exc)) from exc
            raise ModelStreamBroken(str(exc)) from exc
        finally:
            watchdog.cancel()
            self._stop.signal.removeEventListener("abort", on_stop)
            on_stop.destroy()
            self._source = None

    def _stopped(self, _event: Any) -> None:
        """The stop's listener: the pipe lets go of the model's stream now, not at its next chunk,
        and the stream is cancelled (with the stop's reason)."""
        reason = self._stop.signal.reason
        for controller in self._sinks:
            try:
                controller.error(reason)
            except JsException:  # already closed or errored
                pass
        if self._source is not None:
            self._cancelling = asyncio.ensure_future(_cancel(self._source, reason))

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
        sink_controller: list[Any] = []

        fast_run = [0]  # chunks in a row that came within `flush_interval_s` of the one before

        def write(chunk: Any, _controller: Any = None) -> None:
            fast_run[0] = fast_run[0] + 1 if time.monotonic() - self.last_chunk_at < flush_interval_s else 0
            try:
                self.relay(chunk.to_bytes())
            except BaseException as exc:  # raised into the runtime it would reach us as a JsException
                failed.append(exc)
                return
            if fast_run[0] >= FAST_CHUNKS_TO_BATCH:
                switch.abort()

        sink_write = create_proxy(write)
        sink = WritableStream.new(_options(start=create_once_callable(sink_controller.append), write=sink_write))
        self._sinks = sink_controller
        stops = AbortSignal.any(to_js([self._stop.signal, switch.signal]))
        try:
            # preventCancel: a switch hands the source on; a stop cancels it below, once the pipe let go of it.
            await source.pipeTo(sink, _options(signal=stops, preventCancel=True))
            if not self._stop.signal.aborted:
                return None
            ended: str = str(self._stop.signal.reason)  # a stop errored the sink: the pipe let go of the source
        except JsException as exc:
            if not failed and switch.signal.aborted and not self._stop.signal.aborted:
                return source
            ended = str(exc)
        finally:
            self._sinks = []
            sink_write.destroy()
        await _cancel(source)  # the model stops generating (a stream that failed ignores it)
        if failed:
            raise failed[0] from None
        raise _ReadFailed(ended)

    async def _in_batches(self, source: Any, flush_interval_s: float) -> None:
        """Pipes `source` into the inbox and relays what it holds, a read at a time."""
        inbox_controller: list[Any] = []
        inbox = ReadableStream.new(_options(type="bytes", start=create_once_callable(inbox_controller.append)))
        inbox_in = inbox_controller[0]
        # Bound runtime functions as the sink: the pipe moves each chunk with no call into Python.
        sink = WritableStream.new(_options(start=create_once_callable(inbox_controller.append), write=inbox_in.enqueue.bind(inbox_in),
                                           close=inbox_in.close.bind(inbox_in), abort=inbox_in.error.bind(inbox_in)))
        self._sinks = inbox_controller  # the inbox and the sink: a stop fails the read below and lets go of the source
        # Settles when the model's stream has ended (or failed, or was stopped): a flush tick
        # waiting for more to pile up wakes then, so the answer's end never waits for the tick.
        piped = asyncio.ensure_future(source.pipeTo(sink, _options(signal=self._stop.signal)))
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
                if (wait := read_at + flush_interval_s - self.last_chunk_at) > 0 and not piped.done():
                    await asyncio.wait([piped], timeout=wait)  # let what the model sends meanwhile pile up: one read for all of it
                read_at = self.last_chunk_at
        finally:
            self._sinks = []
            try:
                await piped  # settled by now (ended, failed or stopped); awaited so no rejection goes unhandled
            except JsException:
                pass

    async def _watch(self, deadlines: StreamDeadlines) -> None:
        """One timer per stream: stops the pipe when the first of `deadlines` passes. The model's
        stream is read as it comes whatever the client's pace, so silence is the model's."""
        while (halted := deadlines.passed(self.last_chunk_at, time.monotonic())) is None:
            if (wake_at := deadlines.next_check(self.last_chunk_at)) == math.inf:
                return
            await asyncio.sleep(wake_at - time.monotonic())
        self._halted_by = halted
        self._stop.abort(Error.new(str(halted)))

    def close(self) -> None:
        try:
            self._controller.close()
        except JsException as exc:
            raise ClientGone(str(exc)) from exc

    async def fail(self, reason: str) -> None:
        """Ends the body abnormally: the client's read fails instead of seeing a clean end. Erroring
        a stream drops what its reader has not taken yet, and on workerd, before the response's
        head went out, the head too: so the reader gets what was written first (unless it left),
        and the head its time to go out (HEAD_GRACE_S)."""
        give_up_at = time.monotonic() + DRAIN_TIMEOUT_S
        while (self._controller.desiredSize or 0) < 1 and not self._stop.signal.aborted and time.monotonic() < give_up_at:
            await asyncio.sleep(DRAIN_POLL_S)
        if (head_wait := self.opened_at + HEAD_GRACE_S - time.monotonic()) > 0 and not self._stop.signal.aborted:
            await asyncio.sleep(head_wait)
        try:
            self._controller.error(reason)
        except JsException:
            pass


async def _cancel(stream: Any, reason: Any = None) -> None:
    """Cancels the model's stream: the model stops generating (a stream that ended, failed or is
    still locked to a pipe that lets go of it later ignores it)."""
    try:
        await stream.cancel(reason)
    except JsException:
        pass


class _ReadFailed(Exception):
    """The model's stream could not be read on: it failed, or the pipe was stopped."""
