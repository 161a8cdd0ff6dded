"""The second worker of the Python floors (bench/python): what /rpc calls over a service binding,
as the api worker calls the inference service (another worker: its own isolate)."""

from workers import WorkerEntrypoint


class Peer(WorkerEntrypoint):
    async def echo(self, value: str, request_id: str = "") -> str:
        return value
