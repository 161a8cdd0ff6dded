"""inference-ui-api: the public worker. Every request goes through api.app.handle."""

from workers import WorkerEntrypoint

from api.app import handle


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await handle(request, self.env, self.ctx)
