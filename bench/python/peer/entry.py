"""The second worker of the Python floors (bench/python): what /rpc and /chat call over a service
binding, as the api worker calls the inference service (another worker: its own isolate).

`stream` is the least a streamed generation of this design can cost: one call to a Python Durable
Object (one SQL statement, as admission's one call to the key's counter), then a Response whose
body is a stream Python writes (one chunk, then its end), returned across the RPC."""

from js import Object, ReadableStream
from pyodide.ffi import create_once_callable, to_js
from workers import DurableObject, Response, WorkerEntrypoint

ANSWER = b'data: {"type":"text-delta","id":"text-1","delta":"Hi"}\n\ndata: {"type":"finish"}\n\ndata: [DONE]\n\n'


class FloorCounter(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self._sql = ctx._ctx.storage.sql  # the runtime's, not the SDK's wrapper (shared/sdk.py)
        self._sql.exec("CREATE TABLE IF NOT EXISTS windows (start INTEGER PRIMARY KEY, count INTEGER NOT NULL)")

    async def count(self, window_start: int) -> str:
        self._sql.exec("INSERT INTO windows (start, count) VALUES (?, 1) ON CONFLICT (start) DO UPDATE SET count = count + 1",
                       window_start)
        return "{}"


def _answer(controller):
    controller.enqueue(to_js(ANSWER))
    controller.close()


class Peer(WorkerEntrypoint):
    async def echo(self, value: str, request_id: str = "") -> str:
        return value

    async def stream(self, value: str, request_id: str = ""):
        counters = self.env._env.FLOOR_COUNTER
        await counters.get(counters.idFromName("floor")).count(0)
        body = ReadableStream.new(Object.fromEntries(to_js([["start", create_once_callable(_answer)]])))
        return Response(body, headers={"content-type": "text/event-stream"})
