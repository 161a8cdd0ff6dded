"""inference-service: a private WorkerEntrypoint. Its methods are called over the INFERENCE
service binding (JS RPC); it has no route and answers no HTTP from the internet."""

from workers import WorkerEntrypoint

from inference.health import check_bindings


class InferenceService(WorkerEntrypoint):
    async def health(self, request_id: str) -> dict:
        report = await check_bindings(self.env, str(request_id))
        return report.model_dump(mode="json")
