"""Model calls: Workers AI (the AI binding) and the external providers (inference/external.py),
with retries and fallbacks. An attempt is a (provider, model) pair, in the order routing chose
(shared/routing.py); what a failure leads to (a retry, the next attempt, the next provider, or an
answer at once) is its class (shared/failures.py). A
stream counts as open once its first token has arrived, so a model that fails before its first
token is retried like one that failed to start."""

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from inference.bindings import binding
from inference.circuits import Attempt, ProviderCircuits
from inference.external import ExternalProvider, ProviderError
from inference.gateway import gateway_options
from inference.log import log
from inference.settings import Settings, settings_of
from shared import clock
from shared.config import read_var
from shared.contract import ServiceFailed, ServiceFailure
from shared.failures import Failure, FailureClass, answer_for, workers_ai_failure
from shared.isolate import PerIsolate
from shared.routing import WORKERS_AI
from shared.workers_ai import SSEDecoder, StreamEvent

Answer = TypeVar("Answer")


# The AI binding, per isolate (an embedding's vectors come back in one conversion).
workers_ai = PerIsolate(lambda env: binding(env, "AI", "WorkersAI"))


def _external(env: Any) -> dict[str, ExternalProvider]:
    """Each configured provider, with its key read from the secret it names."""
    return {name: ExternalProvider(name, provider.url, read_var(env, provider.key_secret) if provider.key_secret else None,
                                   provider.models)
            for name, provider in settings_of(env).routing.providers.items()}


external_providers = PerIsolate(_external)
provider_circuits = PerIsolate(lambda env: ProviderCircuits(settings_of(env).routing.providers))
# The binding's options for every Workers AI call: AI Gateway's, when AI_GATEWAY_ID is set.
gateway_of = PerIsolate(lambda env: gateway_options(
    (s := settings_of(env)).ai_gateway_id, s.ai_gateway_skip_cache, s.ai_gateway_cache_ttl, s.ai_gateway_metadata))


class CallRecorder(Protocol):
    """What records a call (inference/usage.py's Meter): given the call's AI Gateway log."""

    gateway_log_id: str | None


async def _run_workers_ai(env: Any, model: str, inputs: dict[str, Any], recorder: CallRecorder | None,
                          vectors_json: bool = False) -> Any:
    """A Workers AI call, through AI Gateway when one is set: its log id goes to the call's record."""
    ai, options = workers_ai(env), gateway_of(env)
    answer = await (ai.run_vectors_json(model, inputs, options) if vectors_json else ai.run(model, inputs, options))
    if options is not None and recorder is not None:
        recorder.gateway_log_id = ai.gateway_log_id
    return answer


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


class ModelTimedOut(ModelStreamBroken):
    """The model's stream went on past the whole answer's deadline (and was stopped)."""


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

    provider: str
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


async def _first_events(provider: str, model: str, stream: Any) -> ModelStream:
    opened = time.perf_counter()
    reader = stream.getReader()
    decoder = SSEDecoder()
    events: list[StreamEvent] = []
    try:
        async for chunk in read_chunks(reader):
            events += decoder.feed(chunk)
            if any(e.text or e.tool_calls or e.done for e in events):
                break
        else:
            events += decoder.close()
    except asyncio.CancelledError:  # the deadline passed: stop the model, not just the wait
        await reader.cancel()
        raise
    return ModelStream(provider, model, stream, reader, decoder, events, opened, time.perf_counter())


def classified(exc: Exception) -> Failure:
    """What a failed call means: the provider classified its own; Workers AI's by its code."""
    if isinstance(exc, ProviderError):
        return exc.failure
    return workers_ai_failure(str(exc), clock.now())


def _service_failed(failure: Failure) -> ServiceFailed:
    return ServiceFailed(ServiceFailure(code=failure.code, message=failure.message, retry_after=failure.retry_after))


async def _with_retries(env: Any, attempts: list[Attempt], policy: RetryPolicy,
                        attempt_call: Callable[[str, str], Awaitable[Answer]]) -> Answer:
    """The first answer of the attempts, in order, a provider whose circuit is open passed over
    (inference/circuits.py); shared/failures.py says what each failure means: a transient failure
    is retried with backoff, then the next attempt is made; a model that cannot answer is passed
    over at once; a provider's limit passes over its other models; the client's fault is answered
    at once. Every attempt failed: the failure to answer."""
    circuits = provider_circuits(env)
    failures: list[Failure] = []
    limited: set[str] = set()  # providers whose account limit was met: their other models would meet it too
    for provider, model in circuits.passable(attempts, clock.monotonic()):
        if provider in limited:
            continue
        for attempt in range(policy.attempts_per_model):
            try:
                answer = await attempt_call(provider, model)
            except Exception as exc:
                failure = classified(exc)
                failures.append(failure)
                circuits.failed(provider, failure, clock.monotonic())
                log(f"model {model} ({provider}) attempt {attempt + 1} failed ({failure.kind}): {exc}")
                if failure.kind is FailureClass.CLIENT:
                    raise _service_failed(failure) from exc
                if failure.kind is FailureClass.LIMIT:
                    limited.add(provider)
                if failure.kind is not FailureClass.RETRY:
                    break
                await asyncio.sleep(policy.delay(attempt))
            else:
                circuits.succeeded(provider)
                return answer
    raise _service_failed(answer_for(failures))


async def open_stream(env: Any, attempts: list[Attempt], inputs: dict[str, Any], policy: RetryPolicy,
                      recorder: CallRecorder | None = None) -> ModelStream:
    async def attempt(provider: str, model: str) -> ModelStream:
        if provider == WORKERS_AI:
            stream = await _run_workers_ai(env, model, {**inputs, "stream": True}, recorder)
        else:
            stream = await external_providers(env)[provider].stream(model, inputs)
        return await _first_events(provider, model, stream)

    return await _with_retries(env, attempts, policy, attempt)


async def run_once(env: Any, attempts: list[Attempt], inputs: dict[str, Any], policy: RetryPolicy,
                   vectors_json: bool = False, recorder: CallRecorder | None = None) -> tuple[str, str, Any]:
    """(provider, model, answer) of the first attempt that answered; `vectors_json`: the answer is
    an embedding model's vectors as JSON text (Workers AI only); `recorder`: what records the call."""
    async def attempt(provider: str, model: str) -> tuple[str, str, Any]:
        if provider == WORKERS_AI:
            return provider, model, await _run_workers_ai(env, model, inputs, recorder, vectors_json)
        return provider, model, await external_providers(env)[provider].run(model, inputs)

    return await _with_retries(env, attempts, policy, attempt)


async def probe(env: Any, model: str) -> None:
    """One token from `model`, failing loudly (what a health check needs)."""
    result = await _run_workers_ai(env, model, {"prompt": "ping", "max_tokens": 1}, None)
    if "response" not in result:
        raise RuntimeError("model answered without a response field")
