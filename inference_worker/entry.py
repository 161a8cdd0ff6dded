"""inference-service: a private worker. Its InferenceService methods are called over the
INFERENCE service binding (JS RPC); it has no route and answers no HTTP from the internet.
Default only takes the cron trigger (the replay of unindexed event batches).

Arguments arrive as plain dicts and are validated with the shared contract models; results
leave as plain dicts (or a streaming Response)."""

from workers import WorkerEntrypoint

from inference import access, analytics, events
from inference.embeddings import embed
from inference.generation import generate, stream_generation
from inference.health import check_bindings
from shared.analytics import EventQuery, MetricQuery
from shared.contract import AdmissionRequest, Caller, EmbeddingRequest, EventBatch, GenerationRequest, KeySpec


class InferenceService(WorkerEntrypoint):
    async def health(self, request_id: str) -> dict:
        report = await check_bindings(self.env, str(request_id))
        return report.model_dump(mode="json")

    async def admit(self, request: dict) -> dict:
        result = await access.admit(self.env, self.ctx, AdmissionRequest.model_validate(request))
        return result.model_dump(mode="json")

    async def get_usage(self, caller: dict) -> dict:
        report = await access.usage_report(self.env, Caller.model_validate(caller))
        return report.model_dump(mode="json")

    async def create_key(self, spec: dict) -> dict:
        return (await access.create_key(self.env, KeySpec.model_validate(spec))).model_dump(mode="json")

    async def list_keys(self) -> list:
        return [key.model_dump(mode="json") for key in await access.list_keys(self.env)]

    async def revoke_key(self, key_id: str) -> bool:
        return await access.revoke_key(self.env, str(key_id))

    async def stream_generation(self, request: dict):
        return await stream_generation(self.env, self.ctx, GenerationRequest.model_validate(request))

    async def generate(self, request: dict) -> dict:
        return await generate(self.env, GenerationRequest.model_validate(request))

    async def embed(self, request: dict) -> dict:
        return await embed(self.env, EmbeddingRequest.model_validate(request))

    async def process_events(self, batch: dict) -> dict:
        return await events.process_events(self.env, self.ctx, EventBatch.model_validate(batch))

    async def get_metrics(self, query: dict) -> dict:
        return await analytics.get_metrics(self.env, MetricQuery.model_validate(query))

    async def list_events(self, query: dict) -> dict:
        return await analytics.list_events(self.env, EventQuery.model_validate(query))

    async def replay_unindexed(self) -> dict:
        return await events.replay_unindexed(self.env)


class Default(WorkerEntrypoint):
    # workerd calls it with (controller, env, ctx); env and ctx are also self.env and self.ctx.
    async def scheduled(self, controller, _env=None, _ctx=None):
        outcome = await events.replay_unindexed(self.env)
        print(f"replay of unindexed event batches: {outcome}")
