"""The api's log line of a request, as `wrangler tail` shows it: a refused request says why, and a
streamed answer's line says how long the whole answer took, not only its headers."""

import json
import time

import pytest

from shared import jwt
from tests.e2e.conftest import TEST_JWT_SECRET, host_only

pytestmark = host_only


def line_of(host, request_id: str, timeout: float = 10) -> dict:
    """The api's line for the request (the host's output is read by a thread: it may come a little later)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(text) for text in host.lines if text.startswith("{") and request_id in text]
        api = [line for line in lines if "worker" not in line and line.get("request_id") == request_id]
        if api or time.monotonic() > deadline:
            assert len(api) == 1, lines
            return api[0]
        time.sleep(0.1)


def signed(secret: str, **claims) -> str:
    return jwt.encode({"sub": "user-1", "exp": int(time.time()) + 600, **claims}, secret)


@pytest.fixture(scope="module")
def revoked_key(new_key, anonymous, admin_token) -> str:
    created = new_key("free", "revoked")
    anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": "mutation($id: ID!) { revokeApiKey(id: $id) }", "variables": {"id": created["id"]}}).raise_for_status()
    return created["key"]


CREDENTIALS = {
    "missing_credentials": lambda key: {},
    "invalid_key": lambda key: {"authorization": "Bearer iui_abcdefgh_" + "x" * 32},
    "revoked_key": lambda key: {"x-api-key": key},
    "token_signature": lambda key: {"authorization": f"Bearer {signed('another-secret')}"},
    "token_expired": lambda key: {"authorization": f"Bearer {signed(TEST_JWT_SECRET, exp=int(time.time()) - 3600)}"},
    "token_malformed": lambda key: {"authorization": "Bearer not.a.jwt"},
    "invalid_credentials": lambda key: {"authorization": "Bearer something-else"},
}


@pytest.mark.parametrize("reason", sorted(CREDENTIALS))
def test_a_refused_request_s_line_says_why(host, anonymous, revoked_key, reason):
    request_id = f"refused-{reason}-{time.time_ns()}"

    response = anonymous.get("/v1/usage", headers={"cf-ray": request_id, **CREDENTIALS[reason](revoked_key)})

    assert response.status_code == 401 and response.json()["error"]["reason"] == reason
    line = line_of(host, request_id)
    assert (line["status"], line["error"], line["reason"]) == (401, "unauthorized", reason)


def test_an_answered_request_s_line_has_no_error(host, client):
    request_id = f"ok-{time.time_ns()}"

    assert client.get("/v1/models", headers={"cf-ray": request_id}).status_code == 200

    line = line_of(host, request_id)
    assert (line["status"], line["error"], line["reason"]) == (200, None, None)
    assert "stream_ms" not in line


def test_a_streamed_answer_s_line_says_how_long_the_whole_answer_took(host, client, ai):
    ai.set(tokenDelayMs=40)  # the answer comes token by token, well after its headers
    request_id = f"stream-{time.time_ns()}"

    response = client.post("/v1/chat/completions", headers={"cf-ray": request_id}, json={
        "model": "llama-3.1-8b", "stream": True, "messages": [{"role": "user", "content": "one two three four five"}]})

    assert response.status_code == 200 and response.text.endswith("data: [DONE]\n\n")
    line = line_of(host, request_id)
    assert line["stream"] == "ok"
    assert line["stream_ms"] > line["ms"]
