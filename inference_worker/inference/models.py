"""Calls to Workers AI with retries and fallbacks: transient errors (capacity, timeouts) are
retried with backoff, then the next model in the fallback list is tried; anything else fails
at once. A stream counts as open once its first token has arrived, so a model that fails
before its first token is retried like one that failed to start."""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from shared.contract import ServiceFailure
from shared.errors import ErrorCode
from shared.workers_ai import SSEDecoder, StreamEvent, is_retryable, is_timeout

RETRY_AFTER_SECONDS = 5


async def read_chunks(reader: Any) -> AsyncIterator[bytes]:
    """The chunks of a ReadableStream's reader, as bytes."""
    while True:
        result = await reader.read()
        if result.done:
            return
        yield result.value.to_bytes()


class GenerationFailed(Exception):
    def __init__(self, failure: ServiceFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class ModelStreamBroken(Exception):
    """The model's stream failed after its first token."""


class ModelStalled(ModelStreamBroken):
    """The model sent nothing for the idle timeout, after its first token."""


class ReaderGone(Exception):
    """Whoever reads the answer went away while the model was still to send its next chunk."""


@dataclass
class RetryPolicy:
    attempts_per_model: int = 2
    backoff_ms: float = 200

    @classmethod
    def from_env(cls, env: Any) -> "RetryPolicy":
        return cls(
            attempts_per_model=int(getattr(env, "MODEL_ATTEMPTS", 2) or 2),
            backoff_ms=float(getattr(env, "RETRY_BACKOFF_MS", 200) or 0),
        )

    def delay(self, attempt: int) -> float:
        # Full jitter: concurrent retries after a capacity error should not arrive together.
        return random.uniform(0, self.backoff_ms * 2**attempt) / 1000


@dataclass
class ModelStream:
    model: str
    reader: Any
    decoder: SSEDecoder
    first: list[StreamEvent]
    opened_at: float
    first_token_at: float
    chunks: AsyncIterator[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.chunks = read_chunks(self.reader)

    async def events(self, idle_timeout_s: float | None = None, reader_gone: Any = None) -> AsyncIterator[StreamEvent]:
        """The model's events; ModelStalled when nothing arrives for `idle_timeout_s`, ReaderGone
        as soon as `reader_gone` (a future) is done, without waiting for the model's next chunk."""
        for event in self.first:
            yield event
        while True:
            step = asyncio.ensure_future(anext(self.chunks))
            waiting = {step, reader_gone} if reader_gone is not None else {step}
            done, _ = await asyncio.wait(waiting, timeout=idle_timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if step not in done:
                step.cancel()
                if reader_gone is not None and reader_gone in done:
                    raise ReaderGone()
                raise ModelStalled(f"the model sent nothing for {idle_timeout_s:g} s")
            try:
                chunk = step.result()
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise ModelStreamBroken(str(exc)) from exc
            for event in self.decoder.feed(chunk):
                yield event
        for event in self.decoder.close():
            yield event

    async def cancel(self) -> None:
        try:
            await self.reader.cancel()
        except Exception:
            pass


async def _first_events(model: str, stream: Any) -> ModelStream:
    opened = time.perf_counter()
    reader = stream.getReader()
    decoder = SSEDecoder()
    events: list[StreamEvent] = []
    try:
        async for chunk in read_chunks(reader):
            events += decoder.feed(chunk)
            if any(e.text or e.done for e in events):
                break
        else:
            events += decoder.close()
    except asyncio.CancelledError:  # the deadline passed: stop the model, not just the wait
        await reader.cancel()
        raise
    return ModelStream(model, reader, decoder, events, opened, time.perf_counter())


def _failure(message: str, retryable: bool) -> GenerationFailed:
    if retryable and is_timeout(message):
        return GenerationFailed(ServiceFailure(
            code=ErrorCode.UPSTREAM_TIMEOUT,
            message=f"The model timed out; try again shortly ({message})",
            retry_after=RETRY_AFTER_SECONDS,
        ))
    if retryable:
        return GenerationFailed(ServiceFailure(
            code=ErrorCode.SERVICE_UNAVAILABLE,
            message=f"The model is over capacity; try again shortly ({message})",
            retry_after=RETRY_AFTER_SECONDS,
        ))
    return GenerationFailed(ServiceFailure(code=ErrorCode.UPSTREAM_ERROR, message=f"The model failed: {message}"))


async def _with_retries(models: list[str], policy: RetryPolicy, attempt_call):
    last = ""
    for model in models:
        for attempt in range(policy.attempts_per_model):
            try:
                return await attempt_call(model)
            except Exception as exc:
                last = str(exc)
                if not is_retryable(last):
                    raise _failure(last, retryable=False) from exc
                print(f"model {model} attempt {attempt + 1} failed, retrying: {last}")
                await asyncio.sleep(policy.delay(attempt))
    raise _failure(last, retryable=True)


async def open_stream(env: Any, models: list[str], inputs: dict[str, Any], policy: RetryPolicy) -> ModelStream:
    async def attempt(model: str) -> ModelStream:
        return await _first_events(model, await env.AI.run(model, {**inputs, "stream": True}))

    return await _with_retries(models, policy, attempt)


async def run_once(env: Any, models: list[str], inputs: dict[str, Any], policy: RetryPolicy) -> tuple[str, Any]:
    async def attempt(model: str) -> tuple[str, Any]:
        return model, await env.AI.run(model, inputs)

    return await _with_retries(models, policy, attempt)
