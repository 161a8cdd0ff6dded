"""A streamed answer ends as soon as the model's stream has: neither what comes after the end
(the call's usage reports) nor the relay's wait for fast tokens to pile up holds it back."""

import asyncio
import json

import httpx
import pytest

from tests.e2e.conftest import HOST_VARIABLES, key_creator
from tests.inprocess import sdk
from tests.inprocess.conftest import INPROCESS_VARIABLES
from tests.inprocess.host import ORIGIN, ExecutionContext, InProcessHost

LONG_PROMPT = " ".join(f"w{i}" for i in range(60))
# Far longer than any test runs: a relay whose end waited for its flush tick would hang there.
AN_HOUR_MS = "3600000"
NO_HANG_S = 30  # a guard against that hang, not a measure of speed


def recorded_calls(host: InProcessHost) -> int:
    return host.inference_env.DB.rows("SELECT count(*) FROM ai_calls")[0][0]


def stream_then_look(host: InProcessHost, key: str, text: str) -> tuple[str, int]:
    """The answer read to its end, and how many model calls were recorded when it ended; then
    whatever the request left to waitUntil is done."""
    async def run() -> tuple[str, int]:
        body = {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}]}
        headers = sdk.Headers({"authorization": f"Bearer {key}", "content-type": "application/json"})
        request = sdk.Request(sdk.JsRequest("POST", f"{ORIGIN}/stream/chat", headers, json.dumps(body).encode()))
        response = await host._handle(request, host.env, ExecutionContext(host.pending))
        answer = await asyncio.wait_for(sdk._read_all(response.js_object.body), NO_HANG_S)
        recorded_at_end = recorded_calls(host)
        await host.settle()
        return answer.decode(), recorded_at_end
    return host.run(run())


@pytest.fixture(scope="module")
def hour_long_flush():
    """A host whose relay would gather fast tokens for an hour before each read."""
    running = InProcessHost({**INPROCESS_VARIABLES, "STREAM_FLUSH_MS": AN_HOUR_MS})
    with httpx.Client(base_url=ORIGIN, transport=running.transport()) as anonymous:
        key = key_creator(anonymous, HOST_VARIABLES["ADMIN_TOKEN"])("enterprise")["key"]
    yield running, key
    running.close()


def test_the_answer_ends_while_its_usage_report_is_still_being_written(host, api_key, ai, monkeypatch):
    db = host.inference_env.DB
    written = db.batch
    released = asyncio.Event()

    async def held_back(statements):  # a D1 that answers only once the client has read the whole answer
        await released.wait()
        return await written(statements)

    monkeypatch.setattr(db, "batch", held_back)
    monkeypatch.setattr(host, "settle", _released_then_settled(host.settle, released))
    before = recorded_calls(host)

    answer, recorded_at_end = stream_then_look(host, api_key, "hello")

    assert '"type":"finish"' in answer
    assert recorded_at_end == before  # the client had the whole answer; the report was still on its way
    assert recorded_calls(host) == before + 1  # and it is not lost


def _released_then_settled(settle, released: asyncio.Event):
    async def run() -> None:
        released.set()
        await settle()
    return run


def test_a_fast_models_answer_ends_when_its_stream_does_not_at_the_next_flush(hour_long_flush):
    host, key = hour_long_flush  # tokens all at once: relayed in batches, a read an hour at most

    answer, _ = stream_then_look(host, key, LONG_PROMPT)

    deltas = [json.loads(line[6:]) for line in answer.splitlines() if line.startswith('data: {"type":"text-delta"')]
    assert "".join(d["delta"] for d in deltas) == f"You said: {LONG_PROMPT} (a deterministic reply from the local stand-in for @cf/meta/llama-3.1-8b-instruct-fast)"
    assert '"type":"finish"' in answer
