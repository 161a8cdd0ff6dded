"""GET /health, the one route open without credentials: the api worker answers, and the
inference service reports every binding, reached over the INFERENCE service binding."""

from tests.e2e.conftest import on_runtimes

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


def test_health_carries_one_request_id_across_both_workers(anonymous):
    response = anonymous.get("/health")

    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["inference"]["request_id"] == body["request_id"]
    assert anonymous.get("/health").json()["request_id"] != body["request_id"]


def test_health_reports_versions(anonymous):
    body = anonymous.get("/health").json()

    assert body["version"] == body["inference"]["version"]
    assert body["inference"]["python"].startswith("3.")


def test_head_health_answers_without_a_body(anonymous):
    response = anonymous.head("/health")

    assert response.status_code == 200
    assert response.content == b""


RUNTIME_NAMES = {"workerd": "Cloudflare-Workers", "devhost": "Node.js/"}


@on_runtimes("workerd", "devhost")
def test_health_names_the_runtime_that_answered(anonymous, runtime):
    body = anonymous.get("/health").json()

    expected = RUNTIME_NAMES.get(runtime, "Cloudflare-Workers")  # a deployment runs on workerd too
    assert body["runtime"].startswith(expected)
    assert body["inference"]["runtime"].startswith(expected)
