"""The local host's service bindings behave like Cloudflare's JS RPC: values are structured-
cloned, non-cloneable ones are refused, errors reach the caller, and a streamed result reaches
the HTTP client chunk by chunk. Driven through two test-only workers (tests/e2e/fixtures)."""

import json
import time

import httpx
import pytest

from scripts.localhost import FRESH_CONNECTIONS
from tests.e2e.conftest import host_only

pytestmark = host_only


@pytest.fixture(scope="module")
def probe(rpc_probe_host):
    with httpx.Client(base_url=rpc_probe_host.url, timeout=30, limits=FRESH_CONNECTIONS) as http:
        yield http


def test_plain_data_arrives_as_python_values(probe):
    result = probe.get("/echo").json()

    assert result["ok"] is True
    assert result["value"]["type"] == "JsDict"
    assert result["value"]["received"] == {"text": "hé", "items": [1, 2.5, None, True], "nested": {"a": []}}


def test_non_cloneable_argument_fails_in_the_caller_with_a_clear_error(probe):
    result = probe.get("/not-cloneable").json()

    assert result["ok"] is False
    assert "could not be serialized" in result["error"]
    assert "DataCloneError" in result["error"]


def test_an_exception_in_the_target_is_raised_in_the_caller_with_its_message(probe):
    result = probe.get("/raises").json()

    assert result["ok"] is False
    assert "boom from the target" in result["error"]


def test_calling_a_method_the_target_lacks_fails_clearly(probe):
    result = probe.get("/missing-method").json()

    assert result["ok"] is False
    assert "Method no_such_method does not exist" in result["error"]


def test_streamed_rpc_result_reaches_the_client_chunk_by_chunk(probe):
    arrivals = []
    with probe.stream("GET", "/stream", params={"n": 4, "delay_ms": 250}) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            arrivals.append((time.monotonic(), chunk))

    body = b"".join(chunk for _, chunk in arrivals)
    assert body == b"".join(f"chunk {i}\n".encode() for i in range(4))
    assert len(arrivals) > 1
    # The producer sleeps 250 ms between chunks: had anything buffered the whole body, every
    # chunk would arrive together; instead the first one lands well before the last.
    assert arrivals[-1][0] - arrivals[0][0] >= 0.5


def test_work_handed_to_workers_wait_until_outlives_the_call(probe):
    started = probe.get("/start-later", params={"label": "job-1"}).json()
    assert started == {"ok": True, "value": []}  # the call returned before the work finished

    deadline = time.monotonic() + 5
    while "job-1" not in probe.get("/finished").json()["value"]:
        assert time.monotonic() < deadline, "work given to wait_until never ran"
        time.sleep(0.05)


@host_only
def test_both_workers_log_json_lines_that_carry_the_requests_id(host, client):
    """`wrangler tail` of both workers follows a request by its id: the api's line and the
    inference service's line for each RPC call it made (here the admission and the work call)."""
    request_id = f"log-{time.time_ns()}"

    response = client.post("/v1/chat/completions", headers={"cf-ray": request_id},
                           json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "log me"}]})
    assert response.headers["x-request-id"] == request_id
    time.sleep(0.5)  # the host's output is read by a thread

    lines = [json.loads(line) for line in host.lines if line.startswith("{") and request_id in line]
    api = [line for line in lines if "worker" not in line]
    service = [line for line in lines if line.get("worker") == "inference-service" and line["message"] == "rpc"]
    assert [(line["path"], line["status"]) for line in api] == [("/v1/chat/completions", 200)]
    assert {line["rpc"] for line in service} >= {"generate"}
    assert all(line["outcome"] == "ok" and line["ms"] >= 0 for line in service)
