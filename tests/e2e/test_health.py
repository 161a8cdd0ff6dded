"""GET /health, the one route open without credentials: the api worker answers, and the
inference service reports every binding, reached over the INFERENCE service binding."""

from tests.e2e.conftest import TEST_PROVIDER, needs_faults

BINDINGS = {"DB", "CACHE", "ARCHIVE", "ANALYTICS", "AI", "VECTORS"}


def test_health_reports_every_binding_ok_through_the_service_binding(anonymous):
    response = anonymous.get("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == "inference-ui-api"
    inference = body["inference"]
    assert inference["service"] == "inference-service"
    assert set(inference["bindings"]) == BINDINGS
    failing = {name: b["error"] for name, b in inference["bindings"].items() if not b["ok"]}
    assert failing == {}


def test_head_health_answers_without_a_body(anonymous):
    response = anonymous.head("/health")

    assert response.status_code == 200
    assert response.content == b""


def test_health_names_the_runtime_that_answered(anonymous):
    body = anonymous.get("/health").json()

    # workerd, locally as deployed.
    assert body["runtime"].startswith("Cloudflare-Workers")
    assert body["inference"]["runtime"].startswith("Cloudflare-Workers")


@needs_faults
def test_only_the_deep_check_writes_an_analytics_engine_point(anonymous, admin_token, control):
    control.client.delete("/__devhost/analytics")

    anonymous.get("/health")
    after_public = control.client.get("/__devhost/analytics").json()["points"]
    anonymous.get("/health", params={"deep": "1"}, headers={"authorization": f"Bearer {admin_token}"})
    after_deep = control.client.get("/__devhost/analytics").json()["points"]

    assert [p for p in after_public if p["blobs"][0] == "health"] == []
    assert len([p for p in after_deep if p["blobs"][0] == "health"]) == 1


def test_the_deep_check_lists_every_backend_with_its_circuit_and_every_provider_with_its_own(anonymous, admin_token):
    response = anonymous.get("/health", params={"deep": "1"}, headers={"authorization": f"Bearer {admin_token}"})

    body = response.json()
    assert response.status_code == 200, body
    assert set(body["backends"]) == {"INFERENCE"}  # backends.txt's one backend, bound as INFERENCE
    backend = body["backends"]["INFERENCE"]
    assert backend["status"] == "ok" and backend["circuit"]["state"] in {"closed", "open", "half_open"}
    assert set(backend["bindings"]) == BINDINGS and all(status["checked"] for status in backend["bindings"].values())
    assert set(backend["providers"]) == {TEST_PROVIDER}
    assert backend["providers"][TEST_PROVIDER]["state"] in {"closed", "open", "half_open"}
    assert "backends" not in anonymous.get("/health").json()  # the public check shows none of it
