"""inference-service: a private worker. Its InferenceService methods, one a line, are those
shared/rpc.py declares (tests/unit/test_rpc_contract.py checks they agree), called over the
INFERENCE service binding (JS RPC); it has no route and answers no HTTP from the internet.
Default only takes the cron trigger (the replay of unindexed event batches).

This module alone converts at the boundary, with shared/rpc.py's codec: arguments arrive as JSON
text and are read as their declared types; the answer leaves as its envelope (the result, or a
ServiceFailed raised anywhere below as its failure, with the window the call's admission left),
a streaming Response as is."""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from workers import WorkerEntrypoint

from inference import access, admission, alerts, analytics, documents, events, payloads, rpc_latency, usage_batch
from inference.admission import admission_of_call
from inference.counter import KeyCounter  # noqa: F401 (a Durable Object class: the runtime finds it in the main module)
from inference.embeddings import embed
from inference.events import consumer, dead_letters, replay, retention
from inference.generation import generate, stream_generation
from inference.health import check_bindings
from inference.log import log
from inference.log import request_id as log_context
from inference.log import trace as trace_context
from inference.settings import settings_of
from inference.store.runtime import QueueMessage  # the bindings' adapters: in the snapshot (inference/bindings.py imports them late)
from shared.contract import ServiceFailed
from shared.rpc import METHODS, encode_failure, encode_result
from shared.sdk import runtime_batch
from shared.tracing import span_under


async def _serve(entry: WorkerEntrypoint, name: str, request_id: str, work: Callable[..., Awaitable[Any]], *wire: Any) -> Any:
    """Runs one call of the RPC method `name` on `entry`: its arguments read as declared, its work
    under its request id and, for a work call, its span under the api's (inference/log.py), one
    JSON log line for it, its time counted (inference/rpc_latency.py), and its answer encoded.
    A method that reads usage first has the isolate's batch of model calls written (inference/usage_batch.py)."""
    method = METHODS[name]
    token = log_context.set(str(request_id) or None)
    trace_token = trace_context.set(None)
    started = time.perf_counter()
    outcome = "ok"
    arguments: tuple[Any, ...] = ()
    try:
        with admission_of_call() as admitted, usage_batch.for_call(entry.ctx):
            try:
                arguments = method.decode_arguments(*wire)
                if method.work:
                    trace_context.set(span_under(arguments[0].traceparent))
                if method.reads_usage:
                    await usage_batch.flushed(entry.env)
                result = await work(*arguments)
            except ServiceFailed as failed:
                outcome = f"failure:{failed.failure.code}"
                return encode_failure(failed.failure, admitted.window)
        return encode_result(method, result, admitted.window)
    except Exception as exc:
        outcome = f"error:{type(exc).__name__}"
        raise
    finally:
        ms = (time.perf_counter() - started) * 1000
        log("rpc", rpc=name, outcome=outcome, ms=round(ms, 1))
        rpc_latency.count(entry.env, entry.ctx, name, arguments, ms)
        trace_context.reset(trace_token)
        log_context.reset(token)


class InferenceService(WorkerEntrypoint):
    async def health(self, deep, request_id=""):
        return await _serve(self, "health", request_id, lambda deep: check_bindings(self.env, str(request_id), deep), deep)

    async def admit(self, request, request_id=""):
        return await _serve(self, "admit", request_id, lambda request: admission.admit(self.env, self.ctx, request), request)

    async def get_usage(self, caller, request_id=""):
        return await _serve(self, "get_usage", request_id, lambda caller: access.usage_report(self.env, caller), caller)

    async def create_key(self, spec, request_id=""):
        return await _serve(self, "create_key", request_id, lambda spec: access.create_key(self.env, spec), spec)

    async def list_keys(self, request_id=""):
        return await _serve(self, "list_keys", request_id, lambda: access.list_keys(self.env))

    async def revoke_key(self, key_id, request_id=""):
        return await _serve(self, "revoke_key", request_id, lambda key_id: access.revoke_key(self.env, key_id), key_id)

    async def set_key_policy(self, change, request_id=""):
        return await _serve(self, "set_key_policy", request_id, lambda change: access.set_key_policy(self.env, change), change)

    async def rotate_key(self, rotation, request_id=""):
        return await _serve(self, "rotate_key", request_id, lambda rotation: access.rotate_key(self.env, rotation), rotation)

    async def list_alerts(self, query, request_id=""):
        return await _serve(self, "list_alerts", request_id, lambda query: alerts.list_alerts(self.env, query), query)

    async def stream_generation(self, request, request_id=""):
        return await _serve(self, "stream_generation", request_id, lambda request: stream_generation(self.env, self.ctx, request), request)

    async def generate(self, request, request_id=""):
        return await _serve(self, "generate", request_id, lambda request: generate(self.env, self.ctx, request), request)

    async def embed(self, request, request_id=""):
        return await _serve(self, "embed", request_id, lambda request: embed(self.env, self.ctx, request), request)

    async def process_events(self, batch, request_id=""):
        return await _serve(self, "process_events", request_id, lambda batch: events.process_events(self.env, self.ctx, batch), batch)

    async def batch_status(self, ref, request_id=""):
        return await _serve(self, "batch_status", request_id, lambda ref: events.batch_status(self.env, ref), ref)

    async def unindexed_batches(self, request_id=""):
        return await _serve(self, "unindexed_batches", request_id, lambda: events.unindexed_batches(self.env))

    async def replay_unindexed(self, request_id=""):
        return await _serve(self, "replay_unindexed", request_id, lambda: events.replay_unindexed(self.env))

    async def get_metrics(self, query, request_id=""):
        return await _serve(self, "get_metrics", request_id, lambda query: analytics.get_metrics(self.env, query), query)

    async def list_events(self, query, request_id=""):
        return await _serve(self, "list_events", request_id, lambda query: analytics.list_events(self.env, query), query)

    async def store_document(self, request, request_id=""):
        return await _serve(self, "store_document", request_id,
                            lambda request: documents.store_document(self.env, self.ctx, request), request)

    async def resume_document(self, ref, request_id=""):
        return await _serve(self, "resume_document", request_id, lambda ref: documents.resume_document(self.env, self.ctx, ref), ref)

    async def list_documents(self, caller, request_id=""):
        return await _serve(self, "list_documents", request_id, lambda caller: documents.list_documents(self.env, caller), caller)

    async def get_document(self, ref, request_id=""):
        return await _serve(self, "get_document", request_id, lambda ref: documents.get_document(self.env, ref), ref)

    async def delete_document(self, ref, request_id=""):
        return await _serve(self, "delete_document", request_id, lambda ref: documents.delete_document(self.env, ref), ref)

    async def search(self, request, request_id=""):
        return await _serve(self, "search", request_id, lambda request: documents.search(self.env, self.ctx, request), request)

    async def get_payload(self, ref, request_id=""):
        return await _serve(self, "get_payload", request_id, lambda ref: payloads.read(self.env, ref), ref)


class Default(WorkerEntrypoint):
    # workerd calls it with (controller, env, ctx); env and ctx are also self.env and self.ctx.
    async def scheduled(self, controller, _env=None, _ctx=None):
        outcome = await replay.replay_unindexed(self.env)
        log("replay of unindexed event batches", **outcome)
        log("raw events past the retention window deleted", deleted=await retention.purge_expired(self.env))
        log("payload logs past their retention deleted", deleted=await payloads.purge_expired(self.env))

    # The event queue's consumer, and its dead-letter queue's (inference_worker/wrangler.toml).
    async def queue(self, batch, _env=None, _ctx=None):
        raw = runtime_batch(batch)
        messages = [QueueMessage(message) for message in raw.messages]
        if raw.queue == settings_of(self.env).event_dead_letter_queue:
            await dead_letters.dead_letter(self.env, messages)
        elif raw.queue == settings_of(self.env).alert_queue:
            await alerts.deliver(self.env, messages)
        else:
            await consumer.consume(self.env, messages)
