"""inference-service: a private worker. Its InferenceService methods (shared/rpc.py) are called
over the INFERENCE service binding (JS RPC); it has no route and answers no HTTP from the
internet. Default only takes the cron trigger (the replay of unindexed event batches).

This module alone converts at the boundary (shared/rpc.py): arguments arrive as JSON text and are
parsed into the contract models; results leave as JSON text (`_answer`), a streaming Response as
is, and a ServiceFailed raised anywhere below as {"failure": ...}."""

import json
from collections.abc import Awaitable
from typing import Any

from pydantic import BaseModel
from workers import WorkerEntrypoint

from inference import access, analytics, documents, events
from inference.counter import KeyCounter  # noqa: F401 (a Durable Object class: the runtime finds it in the main module)
from inference.embeddings import embed
from inference.generation import generate, stream_generation
from inference.health import check_bindings
from inference.settings import settings_of
from shared.analytics import EventQuery, MetricQuery
from shared.contract import AdmissionRequest, BatchRef, Caller, EmbeddingRequest, EventBatch, GenerationRequest, KeySpec, ServiceFailed
from shared.documents import DocumentRef, DocumentRequest, SearchRequest


async def _answer(work: Awaitable[Any]) -> Any:
    try:
        result = await work
    except ServiceFailed as failed:
        return '{"failure":' + failed.failure.model_dump_json() + "}"
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    if isinstance(result, list):
        return "[" + ",".join(item.model_dump_json() for item in result) + "]"
    if isinstance(result, (bool, dict)):
        return json.dumps(result)
    return result  # a Response: its body streams


class InferenceService(WorkerEntrypoint):
    async def health(self, request_id: str) -> str:
        return await _answer(check_bindings(self.env, str(request_id)))

    async def admit(self, request: str) -> str:
        return await _answer(access.admit(self.env, self.ctx, AdmissionRequest.model_validate_json(request)))

    async def get_usage(self, caller: str) -> str:
        return await _answer(access.usage_report(self.env, Caller.model_validate_json(caller)))

    async def create_key(self, spec: str) -> str:
        return await _answer(access.create_key(self.env, KeySpec.model_validate_json(spec)))

    async def list_keys(self) -> str:
        return await _answer(access.list_keys(self.env))

    async def revoke_key(self, key_id: str) -> str:
        return await _answer(access.revoke_key(self.env, str(key_id)))

    async def stream_generation(self, request: str):
        return await _answer(stream_generation(self.env, self.ctx, GenerationRequest.model_validate_json(request)))

    async def generate(self, request: str) -> str:
        return await _answer(generate(self.env, self.ctx, GenerationRequest.model_validate_json(request)))

    async def embed(self, request: str) -> str:
        return await _answer(embed(self.env, self.ctx, EmbeddingRequest.model_validate_json(request)))

    async def process_events(self, batch: str) -> str:
        return await _answer(events.process_events(self.env, self.ctx, EventBatch.model_validate_json(batch)))

    async def get_metrics(self, query: str) -> str:
        return await _answer(analytics.get_metrics(self.env, MetricQuery.model_validate_json(query)))

    async def list_events(self, query: str) -> str:
        return await _answer(analytics.list_events(self.env, EventQuery.model_validate_json(query)))

    async def store_document(self, request: str) -> str:
        return await _answer(documents.store_document(self.env, self.ctx, DocumentRequest.model_validate_json(request)))

    async def resume_document(self, ref: str) -> str:
        return await _answer(documents.resume_document(self.env, self.ctx, DocumentRef.model_validate_json(ref)))

    async def list_documents(self, caller: str) -> str:
        return await _answer(documents.list_documents(self.env, Caller.model_validate_json(caller)))

    async def get_document(self, ref: str) -> str:
        return await _answer(documents.get_document(self.env, DocumentRef.model_validate_json(ref)))

    async def delete_document(self, ref: str) -> str:
        return await _answer(documents.delete_document(self.env, DocumentRef.model_validate_json(ref)))

    async def search(self, request: str) -> str:
        return await _answer(documents.search(self.env, self.ctx, SearchRequest.model_validate_json(request)))

    async def batch_status(self, ref: str) -> str:
        return await _answer(events.batch_status(self.env, BatchRef.model_validate_json(ref)))

    async def unindexed_batches(self) -> str:
        return await _answer(events.unindexed_batches(self.env))

    async def replay_unindexed(self) -> str:
        return await _answer(events.replay_unindexed(self.env))


class Default(WorkerEntrypoint):
    # workerd calls it with (controller, env, ctx); env and ctx are also self.env and self.ctx.
    async def scheduled(self, controller, _env=None, _ctx=None):
        outcome = await events.replay_unindexed(self.env)
        print(f"replay of unindexed event batches: {outcome}")
        print(f"raw events past the retention window deleted: {await events.purge_expired(self.env)}")

    # The event queue's consumer, and its dead-letter queue's (inference_worker/wrangler.toml).
    async def queue(self, batch, _env=None, _ctx=None):
        from inference.store.runtime import QueueMessage

        raw = vars(batch).get("_binding", batch)  # the runtime's MessageBatch, not the SDK's per-value wrapper
        messages = [QueueMessage(message) for message in raw.messages]
        if raw.queue == settings_of(self.env).event_dead_letter_queue:
            await events.dead_letter(self.env, messages)
        else:
            await events.consume(self.env, messages)
