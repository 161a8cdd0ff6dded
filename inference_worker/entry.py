"""inference-service: a private WorkerEntrypoint. Its methods are called over the INFERENCE
service binding (JS RPC); it has no route and answers no HTTP from the internet.

Arguments arrive as plain dicts and are validated with the shared contract models; results
leave as plain dicts (or a streaming Response)."""

from workers import WorkerEntrypoint

from inference.embeddings import embed
from inference.generation import generate, stream_generation
from inference.health import check_bindings
from shared.contract import EmbeddingRequest, GenerationRequest


class InferenceService(WorkerEntrypoint):
    async def health(self, request_id: str) -> dict:
        report = await check_bindings(self.env, str(request_id))
        return report.model_dump(mode="json")

    async def stream_generation(self, request: dict):
        return await stream_generation(self.env, self.ctx, GenerationRequest.model_validate(request))

    async def generate(self, request: dict) -> dict:
        return await generate(self.env, GenerationRequest.model_validate(request))

    async def embed(self, request: dict) -> dict:
        return await embed(self.env, EmbeddingRequest.model_validate(request))
