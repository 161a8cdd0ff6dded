"""The AI binding: calls to Workers AI with retries and fallbacks: transient errors (capacity, timeouts) are
retried with backoff, then the next model in the fallback list is tried; anything else fails
at once. A stream counts as open once its first token has arrived, so a model that fails
before its first token is retried like one that failed to start."""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from inference.isolate import PerIsolate, binding
from inference.settings import Settings
from shared.contract import ServiceFailed, ServiceFailure
from shared.errors import ErrorCode
from shared.workers_ai import SSEDecoder, StreamEvent, is_retryable, is_timeout

RETRY_AFTER_SECONDS = 5


# The AI binding, per isolate (an embedding's vectors come back in one conversion).
workers_ai = PerIsolate(lambda env: binding(env, "AI", "WorkersAI"))


async def read_chunks(reader: Any) -> AsyncIterator[bytes]:
    """The chunks of a ReadableStream's reader, as bytes."""
    while True:
        result = await reader.read()
        if result.done:
            return
        yield result.value.to_bytes()


class ModelStreamBroken(Exception):
    """The model's stream failed after its first token."""


class ModelStalled(ModelStreamBroken):
    """The model sent nothing for the idle timeout, after its first token (and was stopped)."""


class ClientGone(Exception):
    """Whoever reads the answer went away (cancelled the body): stop producing."""


@dataclass
class RetryPolicy:
    attempts_per_model: int = 2
    backoff_ms: float = 200

    @classmethod
    def of(cls, settings: Settings) -> "RetryPolicy":
        return cls(attempts_per_model=max(1, settings.model_attempts), backoff_ms=settings.retry_backoff_ms)

    def delay(self, attempt: int) -> float:
        # Full jitter: concurrent retries after a capacity error should not arrive together.
        return random.uniform(0, self.backoff_ms * 2**attempt) / 1000


@dataclass
class ModelStream:
    """A model's stream whose first token is in: `first` holds the events read so far, `decoder`
    any partial line after them; `release` hands over the rest of the stream."""

    model: str
    stream: Any
    reader: Any
    decoder: SSEDecoder
    first: list[StreamEvent]
    opened_at: float
    first_token_at: float

    def release(self) -> Any:
        """The model's ReadableStream, unlocked, to be read (piped) from where `first` ended."""
        self.reader.releaseLock()
        return self.stream

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
    return ModelStream(model, stream, reader, decoder, events, opened, time.perf_counter())


def _failure(message: str, retryable: bool) -> ServiceFailed:
    if retryable and is_timeout(message):
        return ServiceFailed(ServiceFailure(
            code=ErrorCode.UPSTREAM_TIMEOUT,
            message=f"The model timed out; try again shortly ({message})",
            retry_after=RETRY_AFTER_SECONDS,
        ))
    if retryable:
        return ServiceFailed(ServiceFailure(
            code=ErrorCode.SERVICE_UNAVAILABLE,
            message=f"The model is over capacity; try again shortly ({message})",
            retry_after=RETRY_AFTER_SECONDS,
        ))
    return ServiceFailed(ServiceFailure(code=ErrorCode.UPSTREAM_ERROR, message=f"The model failed: {message}"))


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
        return await _first_events(model, await workers_ai(env).run(model, {**inputs, "stream": True}))

    return await _with_retries(models, policy, attempt)


async def run_once(env: Any, models: list[str], inputs: dict[str, Any], policy: RetryPolicy) -> tuple[str, Any]:
    async def attempt(model: str) -> tuple[str, Any]:
        return model, await workers_ai(env).run(model, inputs)

    return await _with_retries(models, policy, attempt)


async def probe(env: Any, model: str) -> None:
    """One token from `model`, failing loudly (what a health check needs)."""
    result = await workers_ai(env).run(model, {"prompt": "ping", "max_tokens": 1})
    if "response" not in result:
        raise RuntimeError("model answered without a response field")
