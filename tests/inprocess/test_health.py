"""GET /health, the one route open without credentials: the api worker answers with the inference
service's report, reached over the INFERENCE service binding under the same request id; the deep
check is the admin's."""


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


def test_the_public_check_writes_nothing_and_calls_no_model(anonymous, ai):
    body = anonymous.get("/health").json()

    assert ai.calls() == []  # a model call bills the deployer: not for anyone who asks
    bindings = body["inference"]["bindings"]
    assert {name for name, status in bindings.items() if not status["checked"]} == {"ANALYTICS", "AI"}
    assert all(status["checked"] for name, status in bindings.items() if name not in {"ANALYTICS", "AI"})


def test_the_deep_check_is_the_admins(anonymous, admin_token, ai):
    refused = anonymous.get("/health", params={"deep": "1"})
    deep = anonymous.get("/health", params={"deep": "1"}, headers={"authorization": f"Bearer {admin_token}"})

    assert refused.status_code == 401 and refused.json()["error"]["reason"] == "admin_only"
    assert deep.status_code == 200
    assert all(status["checked"] and status["ok"] for status in deep.json()["inference"]["bindings"].values())
    # The public check now shows what the deep one found, marked as not checked by itself.
    public = anonymous.get("/health").json()["inference"]["bindings"]
    assert public["AI"] == {**deep.json()["inference"]["bindings"]["AI"], "checked": False}
