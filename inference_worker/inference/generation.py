"""Text generation for chat, completion and structured output, streamed or not.

A streamed generation answers once the model's first token is in (so a model that fails
before it can still be answered as an HTTP error by the api worker), then relays tokens as
they arrive into a body encoded for the client's protocol (tool calls as their pieces come).
Offered tools, a model that does not stream tool calls is run whole, and its answer sent as
the stream, as a cached answer is. Usage is recorded when the stream ends, however it ends: the
key's counter first, then the call's reports (its D1 row and usage, its Analytics Engine point)."""

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from workers import Response

from inference import admission, cache, cache_lookup, documents, guardrails, payloads
from inference.ai_client import ClientGone, ModelStalled, ModelStream, ModelStreamBroken, ModelTimedOut, RetryPolicy, open_stream, run_once
from inference.continuation import Continued, Seam, attempts_after, can_continue, continuation_inputs
from inference.deadlines import StreamDeadlines
from inference.images import with_fetched_images
from inference.log import log
from inference.planning import (
    estimate_usage,
    finish_reason,
    model_attempts,
    model_inputs,
    object_errors,
    routed,
    streaming_attempts,
    worst_case,
)
from inference.settings import settings_of
from inference.stop_sequences import StopCutter, cut_at_stop
from inference.streaming import AnswerBody
from inference.tool_calls import ToolCallAssembler, as_pieces, parse_tool_calls
from inference.usage import Meter
from shared.contract import GenerationRequest, GenerationResult, RateWindow, ServiceFailed, ServiceFailure, Source, ToolCall
from shared.documents import grounding
from shared.errors import ErrorCode
from shared.routing import WORKERS_AI
from shared.streams import make_encoder
from shared.workers_ai import SSEDecoder, StreamEvent, Usage


class _AnswerCut(Exception):
    """A stop sequence came: the answer is complete before the model's stream is."""


@dataclass
class _Answer:
    """A model's whole answer (not streamed)."""

    provider: str
    model: str
    text: str
    tool_calls: list[ToolCall]
    used: Usage
    stopped: bool  # a stop sequence cut it


class _Stream:
    """One streamed generation, from the first token to the usage record."""

    def __init__(self, env: Any, req: GenerationRequest, model: str, meter: Meter, cached: cache_lookup.CacheLookup,
                 provider: str = WORKERS_AI, sources: list[Source] = (), inputs: dict[str, Any] | None = None,
                 attempts: list[tuple[str, str]] = ()) -> None:
        self.env, self.req, self.model, self.meter, self.provider, self.sources = env, req, model, meter, provider, sources
        self.cached = cached
        self.inputs, self.attempts = inputs, list(attempts)  # what a continuation asks the next model of the chain
        self.continued: Continued | None = None
        self.seam: Seam | None = None
        self.encoder = make_encoder(
            req.protocol or "text", stream_id=req.stream_id, model=model,
            created=int(time.time()), include_usage=req.include_usage,
        )
        self.body = AnswerBody(self._on_chunk)
        self.decoder: SSEDecoder | None = None
        self.parts: list[str] = []
        self.cutter = StopCutter(req.sampling.stop)
        self.tools = ToolCallAssembler(req.parallel_tool_calls)
        self.reported: Usage | None = None
        self.ttft_ms = 0.0

    def _encoded(self, events: list[StreamEvent]) -> str:
        """The events' text for the client (and kept for the usage record and the cache)."""
        out = []
        for event in events:
            if event.usage:
                self.reported = event.usage
            if text := self.cutter.feed(self.seam.feed(event.text) if self.seam else event.text):
                self.parts.append(text)
                out.append(self.encoder.delta(text))
            if event.tool_calls and not self.cutter.stopped:
                out.append(self.tools.feed(event.tool_calls, self.encoder))
        return "".join(out)

    def _held_back(self) -> str:
        """The end of the answer the stop sequences held back, now that no more comes."""
        if text := self.cutter.close():
            self.parts.append(text)
            return self.encoder.delta(text)
        return ""

    def _on_chunk(self, chunk: bytes) -> str:  # called by the runtime's pipe, once per chunk
        text = self._encoded(self.decoder.feed(chunk))
        if self.cutter.stopped:
            # A stop sequence ended the answer: what is left of it goes out, and raising stops the
            # pipe, which cancels the model's stream (nobody would read what it generates next).
            self.body.write(text)
            raise _AnswerCut
        return text

    async def relay(self, source: ModelStream) -> None:
        self.ttft_ms = (source.first_token_at - self.meter.started) * 1000
        self.decoder = source.decoder
        outcome = "ok"
        try:
            self.body.write(self.encoder.start(self.sources) + self._encoded(source.first))
            settings = settings_of(self.env)
            # The whole answer's time counts from the request, like the deadline for its first token.
            deadlines = StreamDeadlines.starting(time.monotonic() - self.meter.elapsed_ms() / 1000,
                                                 settings.model_idle_timeout_ms / 1000, settings.stream_timeout_ms / 1000)
            while not self.cutter.stopped:
                try:
                    await self.body.pump(source.release(), deadlines, settings.stream_flush_ms / 1000)
                    self.body.write(self._encoded(self.decoder.close()) + self._held_back())
                    break
                except _AnswerCut:
                    break
                except ModelStreamBroken as broken:
                    source = await self._continuation(broken)
            else:  # the first events held a stop sequence (a continuation's, too)
                await source.cancel()
            outcome = await self._finish("".join(self.parts), self._usage(), stopped=self.cutter.stopped)
        except ClientGone:
            outcome = "cancelled"
        except ModelStalled as exc:
            outcome = "stalled"
            await self._fail(f"The model stream failed: {exc}")
        except ModelTimedOut as exc:
            outcome = "timeout"
            await self._fail(f"The model stream failed: {exc}")
        except ModelStreamBroken as exc:
            outcome = "failed_mid_stream"
            await self._fail(f"The model stream failed: {exc}")
        except Exception as exc:  # a bug must end the stream, not leave the client waiting
            outcome = "failed"
            log(f"stream {self.req.request_id} failed: {type(exc).__name__}: {exc}")
            await source.cancel()
            await self._fail("Internal error")
        self.meter.ended()
        used = self._usage()
        if outcome == "ok" and self.continued is None:  # a cached answer is one model's
            await self.cached.remember(self.env, self.req, cache.entry(self.model, "".join(self.parts), used, self.tools.calls))
        await self.meter.done(self.model, outcome, used, self.ttft_ms, self.provider)

    def _usage(self) -> Usage:
        return self.reported or estimate_usage(self.req, "".join(self.parts), self.tools.calls)

    async def _continuation(self, broken: ModelStreamBroken) -> ModelStream:
        """The next model of the chain's stream, going on from the answer so far, its first events
        relayed; raises `broken` when there is none to ask (or none answered), or no time is left."""
        sent = "".join(self.parts) + self.cutter.held  # all the model said: a stop sequence may still start in what is held
        following = attempts_after(self.attempts, (self.provider, self.model))
        if isinstance(broken, ModelTimedOut) or not following or self.inputs is None or not can_continue(self.req, sent):
            raise broken
        # The broken model's call, recorded once another takes over (else it is the stream's one call).
        partial = Meter(self.env, self.req.caller, self.meter.kind, self.req.request_id, self.meter.backend, self.meter.failovers,
                        used_tools=self.meter.used_tools, started=self.meter.started)
        partial.ended()
        settings = settings_of(self.env)
        work = open_stream(self.env, following, continuation_inputs(self.inputs, sent), RetryPolicy.of(settings), self.meter)
        try:
            # The next model's first token is due as any token is: within the idle timeout.
            source = await (asyncio.wait_for(work, settings.model_idle_timeout_ms / 1000) if settings.model_idle_timeout_ms > 0 else work)
        except (ServiceFailed, TimeoutError) as exc:
            log(f"stream {self.req.request_id}: no model continued it: {exc}")
            raise broken from exc
        log(f"stream {self.req.request_id}: {self.model} broke ({broken}); {source.model} continues it")
        await partial.done(self.model, "stalled" if isinstance(broken, ModelStalled) else "failed_mid_stream",
                           self.reported or estimate_usage(self.req, sent), self.ttft_ms, self.provider)
        self.continued = Continued(self.model, source.model, source.provider, len(sent))
        self.model, self.provider, self.decoder, self.reported = source.model, source.provider, source.decoder, None
        self.seam = Seam(sent)
        self.body.rearm()
        self.body.write(self._encoded(source.first))
        return source

    async def _send_whole(self, text: str, calls: list[ToolCall], used: Usage, stopped: bool = False) -> str:
        """An answer had whole, sent as the events a generation sends (its text in word-sized
        deltas, then its calls), in one chunk. Its outcome."""
        try:
            deltas = "".join(self.encoder.delta(piece) for piece in cache.replay_pieces(text))
            self.body.write(self.encoder.start(self.sources) + deltas + self.tools.feed(as_pieces(calls), self.encoder))
            return await self._finish(text, used, stopped)
        except ClientGone:
            return "cancelled"
        except Exception as exc:  # a bug must end the stream, not leave the client waiting
            log(f"stream {self.req.request_id} failed: {type(exc).__name__}: {exc}")
            await self._fail("Internal error")
            return "failed"

    async def replay(self, entry: dict[str, Any]) -> None:
        """A cached answer, with its tool calls as they were."""
        used = cache.entry_usage(entry)
        outcome = await self._send_whole(entry["text"], cache.entry_calls(entry), used)
        self.meter.ended()
        await self.meter.done(self.model, "cache_hit" if outcome == "ok" else outcome, used, 0.0)

    async def deliver(self, answer: _Answer) -> None:
        """The answer of a model that was run unstreamed (it does not stream tool calls)."""
        outcome = await self._send_whole(answer.text, answer.tool_calls, answer.used, answer.stopped)
        self.meter.ended()
        if outcome == "ok":
            await self.cached.remember(self.env, self.req, cache.entry(self.model, answer.text, answer.used, answer.tool_calls))
        await self.meter.done(self.model, outcome, answer.used, provider=self.provider)

    async def _finish(self, text: str, used: Usage, stopped: bool = False) -> str:
        errors = object_errors(self.req, text)
        if errors:
            await self._fail("The object does not match the schema: " + "; ".join(errors[:5]))
            return "invalid_object"
        try:  # a cached answer was checked when it was made
            refusal = None if self.cached.entry else await guardrails.check(self.env, self.req, "answer", text)
        except ServiceFailed as failed:
            await self._fail(failed.failure.message)
            return "failed"
        if refusal is not None:
            await self._fail(refusal.message)
            return "blocked_answer"
        metadata = {"model": self.model, "provider": self.provider, **_cache_metadata(self.cached)}
        if self.continued is not None:
            metadata["continued"] = self.continued.as_metadata()
        calls = self.tools.calls
        self.body.write(self.tools.finish(self.encoder)
                        + self.encoder.finish(finish_reason(self.req, used, stopped, calls), used, metadata))
        self.body.close()
        await payloads.keep(self.env, self.req, self.model, self.provider, "ok", text, calls)
        return "ok"

    async def _fail(self, message: str) -> None:
        chunk = self.encoder.error(message)
        try:
            if chunk is None:
                await self.body.fail(message)
            else:
                self.body.write(chunk)
                self.body.close()
        except ClientGone:
            pass
        await payloads.keep(self.env, self.req, self.model, self.provider, "failed", "".join(self.parts), self.tools.calls)


async def _model_call(req: GenerationRequest, meter: Meter, work: Any) -> Any:
    """Awaits the model within the request's deadline. A model that failed, or did not answer
    in time, is recorded (its prompt was sent) and raised as the ServiceFailure to answer."""
    try:
        return await (asyncio.wait_for(work, req.deadline_ms / 1000) if req.deadline_ms else work)
    except TimeoutError:
        await meter.done(req.model, "timeout", Usage(estimate_usage(req, "").prompt_tokens, 0))
        raise ServiceFailed(ServiceFailure(code=ErrorCode.UPSTREAM_TIMEOUT, retry_after=1,
                                           message=f"The model did not answer within {req.deadline_ms / 1000:g} s")) from None
    except ServiceFailed:
        await meter.done(req.model, "failed")
        raise


def _cache_metadata(cached: cache_lookup.CacheLookup) -> dict[str, Any]:
    """How the cache answered, for the finish metadata."""
    return {"cached": cached.entry is not None, "cache": cached.state,
            **({"cacheScore": cached.score} if cached.score is not None else {})}


def _headers(model: str, cached: cache_lookup.CacheLookup, window: RateWindow | None, provider: str = WORKERS_AI) -> dict[str, str]:
    headers = {"x-model": model, "x-provider": provider, "x-cache": cached.state}
    if cached.score is not None:
        headers["x-cache-score"] = str(cached.score)
    if window is not None:  # this call admitted the request: the api sends the caller its window
        headers |= {"x-ratelimit-limit": str(window.limit), "x-ratelimit-remaining": str(window.remaining),
                    "x-ratelimit-reset": str(window.reset_seconds)}
    return headers


async def _grounded(env: Any, req: GenerationRequest) -> tuple[list[Source], dict[str, Any]]:
    """The model's inputs, with the passages retrieval found for the last user message first."""
    inputs = model_inputs(req)
    if req.retrieval is None:
        return [], inputs
    question = next((m.content for m in reversed(req.messages) if m.role == "user"), req.messages[-1].content)
    options = req.retrieval
    sources = await documents.retrieve(env, req.caller, question, options.top_k, options.min_score, options.documents,
                                       req.request_id, req.backend)
    if sources:
        inputs["messages"].insert(0, {"role": "system", "content": grounding(sources)})
    return sources, inputs


async def stream_generation(env: Any, ctx: Any, req: GenerationRequest) -> Response:
    """A Response whose body streams the answer; ServiceFailed before the first token."""
    req = routed(env, req)
    window = await admission.admitted(env, ctx, req.admission, req.caller, worst_case(env, req))
    meter = Meter.of(env, req, req.kind)
    async with meter.settled_if_unrecorded():
        return await _streamed(env, ctx, req, meter, window)


async def _streamed(env: Any, ctx: Any, req: GenerationRequest, meter: Meter, window: RateWindow | None) -> Response:
    await guardrails.check_prompt(env, req)
    req = await with_fetched_images(req)  # before the cache key: an answer is kept for the image's bytes
    cached = await cache_lookup.find(env, req)
    if cached.entry:
        stream = _Stream(env, req, cached.entry["model"], meter, cached)
        ctx.waitUntil(asyncio.ensure_future(stream.replay(cached.entry)))
        return Response(stream.body.readable, headers=_headers(cached.entry["model"], cached, window))
    sources, inputs = await _grounded(env, req)
    attempts = streaming_attempts(env, req)
    if not attempts:
        answer = await _answer(env, req, meter, inputs)
        stream = _Stream(env, req, answer.model, meter, cached, answer.provider, sources)
        ctx.waitUntil(asyncio.ensure_future(stream.deliver(answer)))
        return Response(stream.body.readable, headers=_headers(answer.model, cached, window, answer.provider))
    policy = RetryPolicy.of(settings_of(env))
    source = await _model_call(req, meter, open_stream(env, attempts, inputs, policy, meter))
    stream = _Stream(env, req, source.model, meter, cached, source.provider, sources, inputs, attempts)
    ctx.waitUntil(asyncio.ensure_future(stream.relay(source)))
    return Response(stream.body.readable, headers=_headers(source.model, cached, window, source.provider))


async def generate(env: Any, ctx: Any, req: GenerationRequest) -> GenerationResult:
    """The whole answer at once; ServiceFailed if the model failed or the deadline passed."""
    req = routed(env, req)
    await admission.admitted(env, ctx, req.admission, req.caller, worst_case(env, req))
    meter = Meter.of(env, req, req.kind)
    async with meter.settled_if_unrecorded():
        result = await _generated(env, req, meter)
    ctx.waitUntil(asyncio.ensure_future(payloads.keep(env, req, result.model, result.provider, "ok", result.text, result.tool_calls)))
    return result


async def _generated(env: Any, req: GenerationRequest, meter: Meter) -> GenerationResult:
    await guardrails.check_prompt(env, req)
    req = await with_fetched_images(req)  # before the cache key: an answer is kept for the image's bytes
    cached = await cache_lookup.find(env, req)
    if entry := cached.entry:
        used, calls = cache.entry_usage(entry), cache.entry_calls(entry)
        await meter.done(entry["model"], "cache_hit", used)
        return GenerationResult(model=entry["model"], text=entry["text"], tool_calls=calls, usage=used.as_dict(),
                                finish_reason=finish_reason(req, used, tool_calls=calls), cached=True, cache=cached.state,
                                cache_score=cached.score)
    sources, inputs = await _grounded(env, req)
    if req.json_schema is not None:
        # Not streamed, so Workers AI's JSON mode can hold the model to the schema.
        inputs["response_format"] = {"type": "json_schema", "json_schema": req.json_schema}
    answer = await _answer(env, req, meter, inputs)
    if refusal := await guardrails.check(env, req, "answer", answer.text):
        await meter.done(answer.model, "blocked_answer", answer.used, provider=answer.provider)
        raise ServiceFailed(refusal)
    await meter.done(answer.model, "ok", answer.used, provider=answer.provider)
    await cached.remember(env, req, cache.entry(answer.model, answer.text, answer.used, answer.tool_calls))
    return GenerationResult(model=answer.model, provider=answer.provider, text=answer.text, tool_calls=answer.tool_calls,
                            usage=answer.used.as_dict(), sources=sources, cache=cached.state,
                            finish_reason=finish_reason(req, answer.used, answer.stopped, answer.tool_calls))


async def _answer(env: Any, req: GenerationRequest, meter: Meter, inputs: dict[str, Any]) -> _Answer:
    """The model's whole answer: its text (cut at a stop sequence), its tool calls (in either
    shape Workers AI answers with), and its usage (estimated when the model reports none)."""
    policy = RetryPolicy.of(settings_of(env))
    provider, model, answer = await _model_call(req, meter, run_once(env, model_attempts(env, req), inputs, policy, recorder=meter))
    calls = parse_tool_calls(answer.get("tool_calls"), req.parallel_tool_calls)
    response = answer.get("response")
    if response is None and calls:  # a model that only called tools may answer no text
        response = ""
    # JSON mode's answer is the object itself (null included): its JSON text is the answer.
    text, stopped = cut_at_stop(response if isinstance(response, str) else json.dumps(response), req.sampling.stop)
    reported = answer.get("usage")
    used = Usage(reported["prompt_tokens"], reported["completion_tokens"]) if reported else estimate_usage(req, text, calls)
    return _Answer(provider, model, text, calls, used, stopped)
