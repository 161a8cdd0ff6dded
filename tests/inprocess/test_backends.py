"""Two inference backends behind one api worker: the second the same inference worker under
another name, both on one storage. The AI stand-in fails every call from a named worker on
demand: a backend whose model account is out of capacity. The host's clock is advanced past a
cool-down or to a fresh rate window, not waited for."""

from collections import Counter

import httpx
import pytest

from tests.inprocess.ai import AiRecorder
from tests.inprocess.host import ORIGIN, InProcessHost

ADMIN = "backends-admin-token"
SECOND = "inference-service-2"
COOLDOWN_SECONDS = 2
FAILURES_TO_OPEN = 3
CHAT = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "which backend?"}]}]}


@pytest.fixture(scope="module")
def pool():
    """The host with two inference backends, a client with an enterprise key, and the host."""
    variables = {"ADMIN_TOKEN": ADMIN, "BACKEND_FAILURES": str(FAILURES_TO_OPEN),
                 "BACKEND_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS), "RETRY_BACKOFF_MS": "1", "MODEL_ATTEMPTS": "1", "FALLBACK_MODELS": ""}
    host = InProcessHost(variables, backends=("inference-service", SECOND))
    with httpx.Client(base_url=ORIGIN, transport=host.transport()) as anonymous:
        created = anonymous.post("/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
            "query": 'mutation { createApiKey(name: "pool", tier: ENTERPRISE) { key } }'}).json()
        key = created["data"]["createApiKey"]["key"]
    with httpx.Client(base_url=ORIGIN, transport=host.transport(), headers={"authorization": f"Bearer {key}"}) as client:
        yield client, host.ai, host
    host.close()


def served_by(client: httpx.Client, count: int) -> Counter:
    backends = Counter()
    for _ in range(count):
        response = client.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200, response.text
        backends[response.headers["x-inference-backend"]] += 1
    return backends


def model_calls_by_worker(control: AiRecorder) -> Counter:
    return Counter(call["worker"] for call in control.calls())


def test_a_hundred_calls_are_spread_evenly_over_two_backends(pool):
    client, control, _ = pool
    control.reset()

    backends = served_by(client, 100)

    assert abs(backends["INFERENCE"] - 50) <= 1 and abs(backends["INFERENCE_2"] - 50) <= 1, backends
    assert model_calls_by_worker(control) == Counter({"inference-service": backends["INFERENCE"], SECOND: backends["INFERENCE_2"]})


def test_a_failing_backend_is_taken_out_and_probed_back_in_after_its_cool_down(pool):
    client, control, host = pool
    control.reset()
    control.set(failingWorkers=[SECOND])

    backends = served_by(client, 20)

    # Every request answered, by the healthy backend; the failing one was tried until its circuit opened.
    assert backends == Counter({"INFERENCE": 20})
    assert model_calls_by_worker(control)[SECOND] == FAILURES_TO_OPEN

    control.set(failingWorkers=[])  # it recovers; its circuit stays open until the cool-down is over
    assert served_by(client, 4) == Counter({"INFERENCE": 4})
    host.clock.advance(COOLDOWN_SECONDS + 0.5)

    backends = served_by(client, 10)

    assert abs(backends["INFERENCE"] - 5) <= 1 and abs(backends["INFERENCE_2"] - 5) <= 1, backends  # closed again


def test_a_stream_that_started_is_not_sent_to_another_backend(pool):
    client, control, _ = pool
    control.reset()
    # Whichever backend gets it, its model breaks after 2 tokens.
    control.set(failures=[{"mode": "mid_stream", "afterTokens": 2, "worker": worker} for worker in ("inference-service", SECOND)])

    response = client.post("/stream/chat", json={**CHAT, "continuation": False})  # no next model taking it up either

    assert response.status_code == 200
    assert '"type":"error"' in response.text and '"type":"finish"' not in response.text
    assert len(control.calls()) == 1  # one model call: the stream was not replayed elsewhere


def test_a_clients_mistake_a_backend_answers_never_opens_its_circuit(pool):
    client, control, _ = pool
    control.reset()
    control.set(failingWorkers=[SECOND])
    groups = 2 * FAILURES_TO_OPEN

    for _ in range(groups):
        # Two chats: round-robin sends one of them to the failing backend first (a failure, then
        # the failover); two lookups of a document that does not exist: one is its 404 to answer.
        served_by(client, 2)
        assert [client.get("/v1/documents/doc_none").status_code for _ in range(2)] == [404, 404]

    # The failures never came FAILURES_TO_OPEN in a row: it was tried in every group, its circuit closed.
    assert model_calls_by_worker(control)[SECOND] == groups


def test_a_request_that_fails_over_is_counted_once(pool):
    """A backend that fails takes the admission with it; the backend that answers admits the
    request again under the same id, which the key's counter counts once: a limit of 20 a
    minute lets exactly 20 through, whichever backend answered."""
    client, control, host = pool
    control.reset()
    created = client.post("/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
        "query": 'mutation { createApiKey(name: "failover", tier: FREE) { key } }'}).json()
    headers = {"authorization": f"Bearer {created['data']['createApiKey']['key']}"}
    host.clock.advance(COOLDOWN_SECONDS + 0.5)  # every circuit closed: the failing backend is tried until its circuit opens
    control.set(failingWorkers=[SECOND])
    host.clock.next_minute()  # every request in one window

    statuses = Counter(client.post("/v1/chat/completions", headers=headers, json={
        "model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}]}).status_code for _ in range(25))

    assert model_calls_by_worker(control)[SECOND] >= 1  # some requests failed over
    assert statuses == {200: 20, 429: 5}


def test_requests_that_fail_over_before_they_were_counted_are_counted_by_the_next_backend(pool):
    """The second backend's RPC throws before it admits anything (the call never reached it):
    every request the rotation sends there first fails over, and the backend that answers counts
    it, so a limit of 20 a minute lets exactly 20 through."""
    client, control, host = pool
    control.reset()
    created = client.post("/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
        "query": 'mutation { createApiKey(name: "unreached", tier: FREE) { key } }'}).json()
    headers = {"authorization": f"Bearer {created['data']['createApiKey']['key']}"}
    host.clock.advance(COOLDOWN_SECONDS + 0.5)  # every circuit closed: the failing backend is tried until its circuit opens
    host.clock.next_minute()  # every request in one window

    with host.rpc_failing("INFERENCE_2", "generate") as second:
        responses = [client.post("/v1/chat/completions", headers=headers, json={
            "model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}]}) for _ in range(25)]

    assert second.refused["generate"] >= 1  # some requests failed over
    assert Counter(r.status_code for r in responses) == {200: 20, 429: 5}
    assert {r.headers["x-inference-backend"] for r in responses if r.status_code == 200} == {"INFERENCE"}
    assert model_calls_by_worker(control)[SECOND] == 0  # the second backend never saw a call


def test_the_deep_health_check_lists_every_backend_with_its_circuit(pool):
    client, control, host = pool
    control.reset()
    host.clock.advance(COOLDOWN_SECONDS + 0.5)
    served_by(client, 2)  # a circuit left open by an earlier test is probed, and closes
    admin = {"authorization": f"Bearer {ADMIN}"}
    healthy = client.get("/health", params={"deep": "1"}, headers=admin).json()
    control.set(failingWorkers=[SECOND])
    served_by(client, 2 * FAILURES_TO_OPEN)  # the second backend fails until its circuit opens

    with host.rpc_failing("INFERENCE_2", "health"):
        response = client.get("/health", params={"deep": "1"}, headers=admin)

    assert set(healthy["backends"]) == {"INFERENCE", "INFERENCE_2"}
    assert {name: b["circuit"]["state"] for name, b in healthy["backends"].items()} == {"INFERENCE": "closed", "INFERENCE_2": "closed"}
    assert healthy["status"] == "ok" and all(b["status"] == "ok" for b in healthy["backends"].values())
    body = response.json()
    assert response.status_code == 503 and body["status"] == "degraded"
    first, second = body["backends"]["INFERENCE"], body["backends"]["INFERENCE_2"]
    assert (first["status"], first["circuit"]) == ("ok", {"state": "closed", "failures": 0})
    assert first["bindings"]["AI"]["checked"] is True
    assert second["status"] == "down" and "error" in second
    assert second["circuit"] == {"state": "open", "failures": FAILURES_TO_OPEN}
    assert body["inference"]["service"] == "inference-service"  # the first backend's report, as the public check shows it
