"""A client's W3C traceparent follows its request through every hop: the api's log line names the
client's span as its parent, the inference worker's line of the call carries the same trace, and
the external provider's request carries a traceparent of that trace whose parent is the call's
span. A malformed traceparent is ignored: the request is answered under a new trace."""

import time

from tests.e2e.conftest import host_only
from tests.e2e.test_providers import chat, provider_calls
from tests.e2e.test_request_log import line_of

pytestmark = host_only

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


def inference_lines(host, request_id: str, message: str, timeout: float = 10) -> list[dict]:
    """The inference worker's lines of the request with this message (read from the host's output by a thread)."""
    import json

    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(text) for text in host.lines if text.startswith("{") and request_id in text]
        found = [line for line in lines if line.get("worker") == "inference-service" and line.get("message") == message]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_client_s_traceparent_reaches_the_inference_worker_s_line_and_the_provider(host, client, ai):
    request_id = f"traced-{time.time_ns()}"

    response = client.post("/stream/chat", json=chat("trace me", complexity="high"),
                           headers={"cf-ray": request_id, "traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01"})

    assert response.status_code == 200 and response.headers["x-provider"] != "workers-ai"
    assert response.headers["x-trace-id"] == TRACE_ID
    api = line_of(host, request_id)
    assert (api["trace_id"], api["parent_span_id"]) == (TRACE_ID, CLIENT_SPAN)
    [rpc] = [line for line in inference_lines(host, request_id, "rpc") if line["rpc"] == "stream_generation"]
    assert (rpc["trace_id"], rpc["parent_span_id"]) == (TRACE_ID, api["span_id"])
    [call] = provider_calls(ai)
    assert call["traceparent"] == f"00-{TRACE_ID}-{rpc['span_id']}-01"
    # The call's span attributes, on a line of the same span, once the answer has ended.
    [model_call] = inference_lines(host, request_id, "model call")
    assert model_call["span_id"] == rpc["span_id"] and model_call["outcome"] == "ok"
    assert model_call["completion_tokens"] > 0 and model_call["model"] == api["model"]


def test_a_malformed_traceparent_is_ignored_and_the_request_starts_a_new_trace(host, client, ai):
    request_id = f"badly-traced-{time.time_ns()}"

    response = client.post("/stream/chat", json=chat("trace me badly", complexity="high"),
                           headers={"cf-ray": request_id, "traceparent": f"00-{'0' * 32}-{CLIENT_SPAN}-01"})

    assert response.status_code == 200
    api = line_of(host, request_id)
    assert api["trace_id"] not in (TRACE_ID, "0" * 32) and api["parent_span_id"] is None
    assert response.headers["x-trace-id"] == api["trace_id"]
    [call] = provider_calls(ai)
    assert call["traceparent"].split("-")[1] == api["trace_id"]
