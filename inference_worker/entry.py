"""inference-service: a private worker. Its InferenceService methods (shared/rpc.py) are called
over the INFERENCE service binding (JS RPC); it has no route and answers no HTTP from the
internet. Default only takes the cron trigger (the replay of unindexed event batches).

This module alone converts at the boundary (shared/rpc.py): arguments arrive as JSON text and are
parsed into the contract models; results leave as JSON text (`_answer`), a streaming Response as
is, and a ServiceFailed raised anywhere below as {"failure": ...}."""

import json
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel
from workers import WorkerEntrypoint

from inference import access, analytics, documents, events
from inference.counter import KeyCounter  # noqa: F401 (a Durable Object class: the runtime finds it in the main module)
from inference.embeddings import embed
from inference.events import consumer, dead_letters, replay, retention
from inference.generation import generate, stream_generation
from inference.health import check_bindings
from inference.log import log
from inference.log import request_id as log_context
from inference.settings import settings_of
from shared.analytics import EventQuery, MetricQuery
from shared.contract import AdmissionRequest, BatchRef, Caller, EmbeddingRequest, EventBatch, GenerationRequest, KeySpec, ServiceFailed
from shared.documents import DocumentRef, DocumentRequest, SearchRequest
from shared.json_reader import parse_internal_as
from shared.sdk import runtime_batch

Argument = TypeVar("Argument", bound=BaseModel)


def _argument(model: type[Argument], text: str) -> Argument:
    """An RPC argument, JSON text, as its contract model (read under the reader's budget)."""
    return parse_internal_as(model, text, field=model.__name__)


async def _answer(rpc: str, request_id: str, work: Awaitable[Any]) -> Any:
    """Runs one RPC call's work under its request id (inference/log.py), logs one JSON line for
    it, and answers in the RPC's wire format."""
    token = log_context.set(str(request_id) or None)
    started = time.perf_counter()
    outcome = "ok"
    try:
        result = await work
    except ServiceFailed as failed:
        outcome = f"failure:{failed.failure.code}"
        return '{"failure":' + failed.failure.model_dump_json() + "}"
    except Exception as exc:
        outcome = f"error:{type(exc).__name__}"
        raise
    finally:
        log("rpc", rpc=rpc, outcome=outcome, ms=round((time.perf_counter() - started) * 1000, 1))
        log_context.reset(token)
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    if isinstance(result, list):
        return "[" + ",".join(item.model_dump_json() for item in result) + "]"
    if isinstance(result, (bool, dict)):
        return json.dumps(result)
    return result  # a Response: its body streams


class InferenceService(WorkerEntrypoint):
    async def health(self, deep: bool = False, request_id: str = "") -> str:
        return await _answer("health", request_id, check_bindings(self.env, str(request_id), bool(deep)))

    async def admit(self, request: str, request_id: str = "") -> str:
        return await _answer("admit", request_id, access.admit(self.env, self.ctx, _argument(AdmissionRequest, request)))

    async def get_usage(self, caller: str, request_id: str = "") -> str:
        return await _answer("get_usage", request_id, access.usage_report(self.env, _argument(Caller, caller)))

    async def create_key(self, spec: str, request_id: str = "") -> str:
        return await _answer("create_key", request_id, access.create_key(self.env, _argument(KeySpec, spec)))

    async def list_keys(self, request_id: str = "") -> str:
        return await _answer("list_keys", request_id, access.list_keys(self.env))

    async def revoke_key(self, key_id: str, request_id: str = "") -> str:
        return await _answer("revoke_key", request_id, access.revoke_key(self.env, str(key_id)))

    async def stream_generation(self, request: str, request_id: str = ""):
        return await _answer("stream_generation", request_id,
                             stream_generation(self.env, self.ctx, _argument(GenerationRequest, request)))

    async def generate(self, request: str, request_id: str = "") -> str:
        return await _answer("generate", request_id, generate(self.env, self.ctx, _argument(GenerationRequest, request)))

    async def embed(self, request: str, request_id: str = "") -> str:
        return await _answer("embed", request_id, embed(self.env, self.ctx, _argument(EmbeddingRequest, request)))

    async def process_events(self, batch: str, request_id: str = "") -> str:
        return await _answer("process_events", request_id, events.process_events(self.env, self.ctx, _argument(EventBatch, batch)))

    async def get_metrics(self, query: str, request_id: str = "") -> str:
        return await _answer("get_metrics", request_id, analytics.get_metrics(self.env, _argument(MetricQuery, query)))

    async def list_events(self, query: str, request_id: str = "") -> str:
        return await _answer("list_events", request_id, analytics.list_events(self.env, _argument(EventQuery, query)))

    async def store_document(self, request: str, request_id: str = "") -> str:
        return await _answer("store_document", request_id,
                             documents.store_document(self.env, self.ctx, _argument(DocumentRequest, request)))

    async def resume_document(self, ref: str, request_id: str = "") -> str:
        return await _answer("resume_document", request_id,
                             documents.resume_document(self.env, self.ctx, _argument(DocumentRef, ref)))

    async def list_documents(self, caller: str, request_id: str = "") -> str:
        return await _answer("list_documents", request_id, documents.list_documents(self.env, _argument(Caller, caller)))

    async def get_document(self, ref: str, request_id: str = "") -> str:
        return await _answer("get_document", request_id, documents.get_document(self.env, _argument(DocumentRef, ref)))

    async def delete_document(self, ref: str, request_id: str = "") -> str:
        return await _answer("delete_document", request_id, documents.delete_document(self.env, _argument(DocumentRef, ref)))

    async def search(self, request: str, request_id: str = "") -> str:
        return await _answer("search", request_id, documents.search(self.env, self.ctx, _argument(SearchRequest, request)))

    async def batch_status(self, ref: str, request_id: str = "") -> str:
        return await _answer("batch_status", request_id, events.batch_status(self.env, _argument(BatchRef, ref)))

    async def unindexed_batches(self, request_id: str = "") -> str:
        return await _answer("unindexed_batches", request_id, events.unindexed_batches(self.env))

    async def replay_unindexed(self, request_id: str = "") -> str:
        return await _answer("replay_unindexed", request_id, events.replay_unindexed(self.env))


class Default(WorkerEntrypoint):
    # workerd calls it with (controller, env, ctx); env and ctx are also self.env and self.ctx.
    async def scheduled(self, controller, _env=None, _ctx=None):
        outcome = await replay.replay_unindexed(self.env)
        log("replay of unindexed event batches", **outcome)
        log("raw events past the retention window deleted", deleted=await retention.purge_expired(self.env))

    # The event queue's consumer, and its dead-letter queue's (inference_worker/wrangler.toml).
    async def queue(self, batch, _env=None, _ctx=None):
        from inference.store.runtime import QueueMessage

        raw = runtime_batch(batch)
        messages = [QueueMessage(message) for message in raw.messages]
        if raw.queue == settings_of(self.env).event_dead_letter_queue:
            await dead_letters.dead_letter(self.env, messages)
        else:
            await consumer.consume(self.env, messages)
