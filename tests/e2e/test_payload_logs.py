"""Payload logs: an opted-in caller's prompt and answer are kept in R2, redacted, and the admin
reads them through GraphQL by the call's request id; a request that says x-payload-log: off
leaves nothing, nor does a caller who is not opted in; the cron deletes a payload once expired
and keeps the others."""

import json
import time
from pathlib import Path

import httpx
import pytest

from shared import jwt
from tests.e2e.conftest import TEST_JWT_SECRET, TEST_PAYLOAD_LOGGED_SUBJECT, needs_faults

pytestmark = needs_faults

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "redaction_corpus.json").read_text())
QUERY = "query($id: ID!) { payloadLog(callId: $id) { callId keyId outcome expiresAt messages { role content } answer } }"


@pytest.fixture
def logged(base_url):
    token = jwt.encode({"sub": TEST_PAYLOAD_LOGGED_SUBJECT, "tier": "pro", "exp": int(time.time()) + 600}, TEST_JWT_SECRET)
    with httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {token}"}) as http:
        yield http


def payload_log(anonymous, admin_token: str, call_id: str) -> dict:
    response = anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"},
                              json={"query": QUERY, "variables": {"id": call_id}})
    return response.json()


def kept(control, call_id: str, timeout: float = 10) -> bool:
    """Whether the call's payload is in R2 (a streamed answer's is written just after its end)."""
    deadline = time.monotonic() + timeout
    while not (found := control.r2_keys(f"payloads/{call_id}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return bool(found)


def test_an_opted_in_caller_s_prompt_is_readable_by_the_admin_with_every_secret_redacted(logged, anonymous, admin_token, control):
    call_id = f"payload-{time.time_ns()}"
    prompt = "\n".join(case["text"] for case in CORPUS["secrets"])

    response = logged.post("/v1/chat/completions", headers={"cf-ray": call_id}, json={
        "model": "llama-3.1-8b", "stream": True, "messages": [{"role": "user", "content": prompt}]})

    assert response.status_code == 200
    assert kept(control, call_id)
    payload = payload_log(anonymous, admin_token, call_id)["data"]["payloadLog"]
    assert (payload["callId"], payload["keyId"], payload["outcome"]) == (call_id, f"jwt:{TEST_PAYLOAD_LOGGED_SUBJECT}", "ok")
    [message] = payload["messages"]
    for case in CORPUS["secrets"]:
        assert case["secret"] not in message["content"] and case["secret"] not in payload["answer"], case
    assert message["content"].count("[REDACTED:") >= len(CORPUS["secrets"])
    assert payload["answer"] and payload["expiresAt"] > time.time()


def test_only_the_admin_reads_a_payload(logged, control):
    call_id = f"payload-private-{time.time_ns()}"
    logged.post("/v1/chat/completions", headers={"cf-ray": call_id},
                json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "mine"}]}).raise_for_status()

    answer = logged.post("/graphql", json={"query": QUERY, "variables": {"id": call_id}}).json()

    assert answer["errors"][0]["extensions"]["code"] == "forbidden"


def test_an_opted_out_request_and_a_caller_not_opted_in_leave_nothing(logged, client, anonymous, admin_token, control):
    opted_out, not_opted_in = f"payload-off-{time.time_ns()}", f"payload-none-{time.time_ns()}"
    body = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "leave no trace"}]}

    assert logged.post("/v1/chat/completions", headers={"cf-ray": opted_out, "x-payload-log": "off"}, json=body).status_code == 200
    assert client.post("/v1/chat/completions", headers={"cf-ray": not_opted_in}, json=body).status_code == 200

    # A non-streamed answer's payload is written as its request ends; this one, asked after, is.
    control_call = f"payload-control-{time.time_ns()}"
    logged.post("/v1/chat/completions", headers={"cf-ray": control_call}, json=body).raise_for_status()
    assert kept(control, control_call)
    assert control.r2_keys(f"payloads/{opted_out}") == [] and control.r2_keys(f"payloads/{not_opted_in}") == []
    missing = payload_log(anonymous, admin_token, opted_out)
    assert missing["errors"][0]["extensions"]["code"] == "not_found"


def test_a_bad_x_payload_log_header_is_refused_naming_it(logged):
    response = logged.post("/v1/chat/completions", headers={"x-payload-log": "maybe"},
                           json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-payload-log"


def test_the_cron_deletes_expired_payloads_and_keeps_the_others(logged, control):
    live = f"payload-live-{time.time_ns()}"
    logged.post("/v1/chat/completions", headers={"cf-ray": live},
                json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "keep me"}]}).raise_for_status()
    assert kept(control, live)
    expired = f"payload-expired-{time.time_ns()}"
    control.put_r2(f"payloads/{expired}.json", control.r2_text(f"payloads/{live}.json"), {"expires_at": str(time.time() - 1)})

    control.fire_cron()

    assert control.r2_keys(f"payloads/{expired}") == []
    assert control.r2_keys(f"payloads/{live}") == [f"payloads/{live}.json"]
