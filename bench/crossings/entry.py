"""One operation, n times in one request: what each crossing between Python and JavaScript
costs (workerd's clocks stand still inside a request, so the CPU is read from outside)."""

import asyncio
import inspect
import json
import time
from urllib.parse import parse_qs, urlsplit

from js import Object, Promise, TextEncoder, TransformStream, console
from js import Response as JsResponse
from pyodide.ffi import create_proxy, run_sync, to_js
from workers import Response, WorkerEntrypoint

SSE_LINE = b'data: {"response":" token","p":"abcdef"}\n\n'
LOG_LINE = ('{"request_id":"0123456789abcdef0123456789abcdef","method":"GET","path":"/v1/models",'
            '"status":200,"ms":3.1,"credential":"key:abcd1234"}')


def _object(**members):
    return Object.fromEntries(to_js(list(members.items())))


def operations():
    """name -> a function doing the operation once."""
    js_bytes = to_js(SSE_LINE)
    started = {}
    stream = TransformStream.new(_object(start=create_proxy(lambda controller: started.setdefault("controller", controller))))
    controller = started["controller"]
    encoder = TextEncoder.new()
    python_from_js = _object(f0=create_proxy(lambda: None), f1=create_proxy(lambda a: None),
                             f2=create_proxy(lambda a, b: None))
    return stream, {
        "nothing": lambda: None,
        "Python calls a JS function (controller.enqueue)": lambda: controller.enqueue(js_bytes),
        "JS calls a Python function, no argument": lambda: python_from_js.f0(),
        "JS calls a Python function, 2 JS objects (a stream transform)": lambda: python_from_js.f2(js_bytes, controller),
        "Uint8Array to bytes (to_bytes)": lambda: js_bytes.to_bytes(),
        "bytes to Uint8Array (to_js)": lambda: to_js(SSE_LINE),
        "str to Uint8Array (TextEncoder.encode)": lambda: encoder.encode("data: token\n\n"),
        "json.loads of one SSE payload": lambda: json.loads(SSE_LINE[6:].strip().decode()),
        "time.monotonic()": time.monotonic,
        "print() of a 150-character log line": lambda: print(LOG_LINE),
        "console.log() of the same line": lambda: console.log(LOG_LINE),
        "await a resolved JS promise": _await_resolved,
        "await asyncio.sleep(0) (one trip through the event loop)": _sleep_zero,
        "run_sync of a resolved JS promise (stack switching)": lambda: run_sync(Promise.resolve(1)),
        "workers.Response with 3 headers": lambda: Response(LOG_LINE, headers=HEADERS),
        "js Response.new with 3 headers (one Object.fromEntries)": lambda: JsResponse.new(LOG_LINE, _object(headers=_object(**HEADERS))),
    }


HEADERS = {"content-type": "application/json", "x-request-id": "abc", "cache-control": "no-store"}


async def _await_resolved():
    await Promise.resolve(1)


async def _sleep_zero():
    await asyncio.sleep(0)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        query = parse_qs(urlsplit(request.url).query)
        stream, ops = operations()
        if "list" in query:
            return Response(json.dumps(list(ops)), headers={"content-type": "application/json"})
        op, n = ops[query["op"][0]], int(query.get("n", ["1"])[0])
        if inspect.iscoroutinefunction(op):
            for _ in range(n):
                await op()
        else:
            for _ in range(n):
                op()
        return Response("done")
