"""The Python floors of `make bench`: a fixed JSON answer (any path), and the same after one JS
RPC call to a second entrypoint of this worker over a service binding (/rpc): the least a
route of this project's two-worker design can cost."""

from workers import Response, WorkerEntrypoint

BODY = '{"object":"list","data":[]}'


class Peer(WorkerEntrypoint):
    async def echo(self, value: dict) -> dict:
        return value


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/rpc"):
            await self.env.PEER.echo({"request_id": "r", "kind": "ai", "key_prefix": "abcd1234", "key_hash": "0" * 64})
        return Response(BODY, headers={"content-type": "application/json"})
