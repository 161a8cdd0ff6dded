"""The Python floors of `make bench`: a fixed JSON answer (any path), and the same after one JS
RPC call to another Python worker over a service binding (/rpc: bench/python/peer, its own
isolate, as the api worker calls the inference service; JSON text in and out, the runtime's
binding called directly, as the api does): the least a route of this project's two-worker
design can cost. /chat: the least a streamed generation can cost, the other worker's streamed
Response (after its one call to a Python Durable Object) returned as this one's."""

from workers import Response, WorkerEntrypoint

BODY = '{"object":"list","data":[]}'
ADMISSION = '{"request_id":"r","kind":"ai","key_prefix":"abcd1234","key_hash":"' + "0" * 64 + '"}'


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/chat"):
            answer = await self.env._env.PEER.stream(ADMISSION, "r")
            return Response(answer.body, headers={"content-type": "text/event-stream"})
        if request.url.endswith("/rpc"):
            await self.env._env.PEER.echo(ADMISSION, "r")  # the runtime's binding, not the SDK's wrapper (shared/runtime.py)
        return Response(BODY, headers={"content-type": "application/json"})
