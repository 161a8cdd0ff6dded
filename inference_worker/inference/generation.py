"""Text generation for chat, completion and structured output, streamed or not.

A streamed generation answers once the model's first token is in (so a model that fails
before it can still be answered as an HTTP error by the api worker), then relays tokens as
they arrive into a body encoded for the client's protocol. Usage is recorded when the
stream ends, however it ends."""

import asyncio
import json
import time
from typing import Any

from workers import Response

from inference import cache, usage
from inference.models import (
    ClientGone,
    GenerationFailed,
    ModelStalled,
    ModelStream,
    ModelStreamBroken,
    RetryPolicy,
    open_stream,
    run_once,
)
from inference.planning import estimate_usage, finish_reason, model_chain, model_inputs, object_errors
from inference.settings import settings_of
from inference.streaming import BodyWriter
from shared.contract import GenerationRequest, GenerationResult, ServiceFailure
from shared.errors import ErrorCode
from shared.streams import make_encoder
from shared.workers_ai import Usage


class _Stream:
    """One streamed generation, from the first token to the usage record."""

    def __init__(self, env: Any, req: GenerationRequest, model: str, started: float) -> None:
        self.env, self.req, self.model, self.started = env, req, model, started
        self.body = BodyWriter()
        self.encoder = make_encoder(
            req.protocol or "text", stream_id=req.stream_id, model=model,
            created=int(time.time()), include_usage=req.include_usage,
        )
        self.ttft_ms = 0.0

    async def relay(self, source: ModelStream, cache_key: str | None) -> None:
        self.ttft_ms = (source.first_token_at - self.started) * 1000
        parts: list[str] = []
        reported: Usage | None = None
        outcome = "ok"
        try:
            await self.body.write(self.encoder.start())
            async for event in source.events(settings_of(self.env).model_idle_timeout_ms / 1000, self.body.closed()):
                if event.usage:
                    reported = event.usage
                if event.text:
                    parts.append(event.text)
                    await self.body.write(self.encoder.delta(event.text))
            text = "".join(parts)
            outcome = await self._finish(text, reported or estimate_usage(self.req, text))
        except ClientGone:
            outcome = "cancelled"
            await source.cancel()
        except ModelStalled as exc:
            outcome = "stalled"
            await source.cancel()
            await self._fail(f"The model stream failed: {exc}")
        except ModelStreamBroken as exc:
            outcome = "failed_mid_stream"
            await self._fail(f"The model stream failed: {exc}")
        except Exception as exc:  # a bug must end the stream, not leave the client waiting
            outcome = "failed"
            print(f"stream {self.req.request_id} failed: {type(exc).__name__}: {exc}")
            await source.cancel()
            await self._fail("Internal error")
        text = "".join(parts)
        used = reported or estimate_usage(self.req, text)
        if outcome == "ok" and cache_key:
            await self._store(cache_key, text, used)
        await self._record(outcome, used)

    async def replay(self, entry: dict[str, Any]) -> None:
        used = cache.entry_usage(entry)
        outcome = "cache_hit"
        try:
            await self.body.write(self.encoder.start())
            for piece in cache.replay_pieces(entry["text"]):
                await self.body.write(self.encoder.delta(piece))
            await self._finish(entry["text"], used, cached=True)
        except ClientGone:
            outcome = "cancelled"
        except Exception as exc:  # a bug must end the stream, not leave the client waiting
            outcome = "failed"
            print(f"stream {self.req.request_id} failed: {type(exc).__name__}: {exc}")
            await self._fail("Internal error")
        await self._record(outcome, used)

    async def _store(self, key: str, text: str, used: Usage) -> None:
        await _store_quietly(self.env, key, cache.entry(self.model, text, used), self.req.request_id)

    async def _finish(self, text: str, used: Usage, cached: bool = False) -> str:
        errors = object_errors(self.req, text)
        if errors:
            await self._fail("The object does not match the schema: " + "; ".join(errors[:5]))
            return "invalid_object"
        metadata = {"model": self.model, "cached": cached}
        await self.body.write(self.encoder.finish(finish_reason(self.req, used), used, metadata))
        await self.body.close()
        return "ok"

    async def _fail(self, message: str) -> None:
        chunk = self.encoder.error(message)
        try:
            if chunk is None:
                await self.body.abort(message)
            else:
                await self.body.write(chunk)
                await self.body.close()
        except ClientGone:
            pass

    async def _record(self, outcome: str, used: Usage) -> None:
        latency = (time.perf_counter() - self.started) * 1000
        call = usage.CallRecord(self.req.caller, self.model, self.req.kind, outcome, used, latency, self.ttft_ms)
        await usage.record_quietly(self.env, call, self.req.request_id)


async def _store_quietly(env: Any, key: str, entry: dict[str, Any], request_id: str) -> None:
    try:
        await cache.store(env, key, entry)
    except Exception as exc:  # the answer was delivered; only the next identical request pays
        print(f"cache store failed for request {request_id}: {exc}")


async def _within_deadline(req: GenerationRequest, work: Any) -> Any:
    return await (asyncio.wait_for(work, req.deadline_ms / 1000) if req.deadline_ms else work)


async def _timed_out(env: Any, req: GenerationRequest, started: float) -> dict[str, Any]:
    """The deadline passed before the model answered: recorded (its prompt was sent) and said."""
    latency = (time.perf_counter() - started) * 1000
    prompt_only = Usage(estimate_usage(req, "").prompt_tokens, 0)
    await usage.record_quietly(env, usage.CallRecord(req.caller, req.model, req.kind, "timeout", prompt_only, latency, 0), req.request_id)
    failure = ServiceFailure(code=ErrorCode.UPSTREAM_TIMEOUT, retry_after=1,
                             message=f"The model did not answer within {req.deadline_ms / 1000:g} s")
    return {"failure": failure.model_dump(mode="json")}


def _headers(model: str, cache_state: str) -> dict[str, str]:
    return {"x-model": model, "x-cache": cache_state}


async def stream_generation(env: Any, ctx: Any, req: GenerationRequest) -> Any:
    """A Response whose body streams the answer, or {"failure": ...} before the first token."""
    started = time.perf_counter()
    key = cache.cache_key(req)
    if key and (entry := await cache.lookup(env, key)):
        stream = _Stream(env, req, entry["model"], started)
        ctx.waitUntil(asyncio.ensure_future(stream.replay(entry)))
        return Response(stream.body.readable, headers=_headers(entry["model"], "hit"))
    try:
        source = await _within_deadline(req, open_stream(env, model_chain(env, req), model_inputs(req), RetryPolicy.of(settings_of(env))))
    except TimeoutError:
        return await _timed_out(env, req, started)
    except GenerationFailed as failed:
        await _record_failure(env, req, started)
        return {"failure": failed.failure.model_dump(mode="json")}
    stream = _Stream(env, req, source.model, started)
    ctx.waitUntil(asyncio.ensure_future(stream.relay(source, key)))
    return Response(stream.body.readable, headers=_headers(source.model, "miss" if key else "bypass"))


async def generate(env: Any, req: GenerationRequest) -> dict[str, Any]:
    """The whole answer at once: a GenerationResult, or {"failure": ...}."""
    started = time.perf_counter()
    key = cache.cache_key(req)
    if key and (entry := await cache.lookup(env, key)):
        used = cache.entry_usage(entry)
        await usage.record_quietly(env, usage.CallRecord(req.caller, entry["model"], req.kind, "cache_hit", used, 0, 0), req.request_id)
        return GenerationResult(model=entry["model"], text=entry["text"], usage=used.as_dict(),
                                finish_reason=finish_reason(req, used), cached=True).model_dump(mode="json")
    inputs = model_inputs(req)
    if req.json_schema is not None:
        # Not streamed, so Workers AI's JSON mode can hold the model to the schema.
        inputs["response_format"] = {"type": "json_schema", "json_schema": req.json_schema}
    try:
        model, answer = await _within_deadline(req, run_once(env, model_chain(env, req), inputs, RetryPolicy.of(settings_of(env))))
    except TimeoutError:
        return await _timed_out(env, req, started)
    except GenerationFailed as failed:
        await _record_failure(env, req, started)
        return {"failure": failed.failure.model_dump(mode="json")}
    response = answer["response"]
    text = response if isinstance(response, str) else json.dumps(response)
    reported = answer.get("usage")
    used = Usage(reported["prompt_tokens"], reported["completion_tokens"]) if reported else estimate_usage(req, text)
    latency = (time.perf_counter() - started) * 1000
    await usage.record_quietly(env, usage.CallRecord(req.caller, model, req.kind, "ok", used, latency, latency), req.request_id)
    if key:
        await _store_quietly(env, key, cache.entry(model, text, used), req.request_id)
    return GenerationResult(model=model, text=text, usage=used.as_dict(),
                            finish_reason=finish_reason(req, used)).model_dump(mode="json")


async def _record_failure(env: Any, req: GenerationRequest, started: float) -> None:
    latency = (time.perf_counter() - started) * 1000
    await usage.record_quietly(env, usage.CallRecord(req.caller, req.model, req.kind, "failed", Usage(), latency, 0), req.request_id)
