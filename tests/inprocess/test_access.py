"""Access control: credentials on every route but /health, keys, JWTs, tiers, the per-minute
rate limit, daily quotas, CORS and the headers every response carries."""

import time

import pytest

from api.routes import router
from scripts import jwt_token
from shared import jwt
from tests.e2e.conftest import TEST_FREE_TOKENS_PER_DAY, TEST_JWT_SECRET, landed

CHAT = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hello"}]}]}
PROTECTED = [route for route in router.routes() if not route.public]



def token(**claims):
    now = int(time.time())
    return jwt.encode({"sub": "user-42", "tier": "pro", "iat": now, "exp": now + 600, **claims}, TEST_JWT_SECRET)


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_other_route_needs_credentials(anonymous, route):
    response = anonymous.request(route.method, route.path, json={})

    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["reason"]) == ("unauthorized", "missing_credentials")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("credentials", [
    {"authorization": "Bearer iui_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"x-api-key": "iui_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"authorization": "Bearer not-a-key"},
    {"authorization": "Basic dXNlcjpwYXNz"},
])
def test_unknown_or_malformed_credentials_are_refused(anonymous, credentials):
    response = anonymous.get("/v1/models", headers=credentials)

    assert response.status_code == 401


def test_a_key_works_by_either_header_until_it_is_revoked(anonymous, new_key, admin_token):
    created = new_key("pro")
    assert anonymous.get("/v1/models", headers={"authorization": f"Bearer {created['key']}"}).status_code == 200
    assert anonymous.get("/v1/models", headers={"x-api-key": created["key"]}).status_code == 200

    revoked = anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": "mutation($id: ID!) { revokeApiKey(id: $id) }", "variables": {"id": created["id"]}})
    assert revoked.json() == {"data": {"revokeApiKey": True}}

    response = anonymous.get("/v1/models", headers={"x-api-key": created["key"]})
    assert response.status_code == 401
    assert response.json()["error"]["reason"] == "revoked_key"


def test_work_routes_count_every_request_once_and_refuse_past_a_quota(anonymous, new_key, clock):
    """Once a key is known to the api, AI routes admit in their own work call, and event batches
    in one call the api makes before it sends them to the queue (a free key takes no slots
    ahead): the count, the headers and the refusal must be what a separate admission gave."""
    headers = {"x-api-key": new_key("free")["key"]}
    clock.next_minute()  # every request in one window
    responses = [
        anonymous.get("/v1/models", headers=headers),  # verifies the key: the api knows it from now on
        anonymous.post("/stream/chat", headers=headers, json=CHAT),
        anonymous.post("/events", headers=headers, json=[{"type": "view"}]),
        anonymous.post("/stream/chat", headers=headers, json={"messages": []}),  # refused before its work call
        anonymous.post("/events", headers=headers, json=[{"type": "view"}] * 4),  # the free tier's 5 events a day
    ]
    landed(anonymous, responses[-1], headers=headers)  # the quota counts indexed events
    responses.append(anonymous.post("/events", headers=headers, json=[{"type": "view"}]))

    assert [r.status_code for r in responses] == [200, 200, 202, 400, 202, 429]
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in responses]
    assert remaining[:5] == [19, 18, 17, 16, 15] and remaining[5] < 15  # (the batch status reads counted between)
    refused = responses[-1]
    assert refused.json()["error"]["reason"] == "event_quota" and int(refused.headers["retry-after"]) >= 1


def test_a_key_revoked_while_the_api_trusts_it_is_refused_on_work_routes_at_once(anonymous, new_key, admin_token):
    created = new_key("pro")
    headers = {"x-api-key": created["key"]}
    assert anonymous.post("/stream/chat", headers=headers, json=CHAT).status_code == 200
    assert anonymous.post("/stream/chat", headers=headers, json=CHAT).status_code == 200  # the api knows the key now

    anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"}, json={
        "query": "mutation($id: ID!) { revokeApiKey(id: $id) }", "variables": {"id": created["id"]}})
    response = anonymous.post("/stream/chat", headers=headers, json=CHAT)

    assert response.status_code == 401 and response.json()["error"]["reason"] == "revoked_key"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_admin_token_opens_the_admin_api_only(anonymous, admin_token):
    response = anonymous.get("/v1/models", headers={"authorization": f"Bearer {admin_token}"})

    assert response.status_code == 401
    assert response.json()["error"]["reason"] == "admin_token_not_accepted"


def test_admin_mutations_need_the_admin_token(client):
    response = client.post("/graphql", json={"query": 'mutation { createApiKey(name: "x") { key } }'})

    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "forbidden"


def test_keys_are_listed_without_the_key(anonymous, new_key, admin_token):
    created = new_key("free", "listed")
    response = anonymous.post("/graphql", headers={"authorization": f"Bearer {admin_token}"},
                              json={"query": "{ apiKeys { id prefix name tier revokedAt } }"})

    listed = {k["id"]: k for k in response.json()["data"]["apiKeys"]}
    assert listed[created["id"]]["name"] == "listed"
    assert listed[created["id"]]["tier"] == "FREE"
    assert created["key"].split("_")[1] == listed[created["id"]]["prefix"]
    assert created["key"] not in response.text


def test_a_valid_jwt_is_a_caller_with_its_tier(anonymous):
    response = anonymous.get("/v1/usage", headers={"authorization": f"Bearer {token()}"})

    assert response.status_code == 200
    assert (response.json()["key_id"], response.json()["tier"]) == ("jwt:user-42", "pro")


def test_a_token_from_make_jwt_is_a_caller_with_its_tier(anonymous, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", TEST_JWT_SECRET)  # the local host's secret, as .dev.vars holds `make dev`'s
    minted = jwt_token.main(["--sub", "user-7", "--tier", "pro", "--minutes", "5"])

    response = anonymous.get("/v1/usage", headers={"authorization": f"Bearer {minted}"})

    assert response.status_code == 200, response.text
    assert (response.json()["key_id"], response.json()["tier"]) == ("jwt:user-7", "pro")


@pytest.mark.parametrize(("bad_token", "reason"), [
    (lambda: token()[:-3] + "AAA", "token_signature"),
    (lambda: jwt.encode({"sub": "u", "exp": int(time.time()) + 600}, "another-secret"), "token_signature"),
    (lambda: token(exp=int(time.time()) - 3600), "token_expired"),
    (lambda: token(nbf=int(time.time()) + 3600), "token_not_yet_valid"),
    (lambda: "e30.e30.e30", "token_algorithm"),
], ids=["tampered", "another_secret", "expired", "not_yet_valid", "no_algorithm"])
def test_a_bad_jwt_is_a_401_with_the_reason(anonymous, bad_token, reason):
    response = anonymous.get("/v1/models", headers={"authorization": f"Bearer {bad_token()}"})  # minted now, not when collected

    assert response.status_code == 401
    assert response.json()["error"]["reason"] == reason


def test_every_authenticated_response_has_rate_limit_headers(anonymous, new_key):
    key = new_key("free")["key"]
    first = anonymous.get("/v1/models", headers={"x-api-key": key})
    not_found = anonymous.post("/stream/chat", headers={"x-api-key": key}, json={"messages": []})

    assert first.headers["x-ratelimit-limit"] == "20"
    assert first.headers["x-ratelimit-remaining"] == "19"
    assert 0 < int(first.headers["x-ratelimit-reset"]) <= 60
    assert not_found.status_code == 400 and not_found.headers["x-ratelimit-remaining"] == "18"


def test_over_the_daily_token_quota_is_a_429_before_the_model_is_called(anonymous, new_key, ai):
    key = new_key("free")["key"]
    long_prompt = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "word " * 60}]}]}
    assert anonymous.post("/stream/chat", headers={"x-api-key": key}, json=long_prompt).status_code == 200
    deadline = time.monotonic() + 10
    while anonymous.get("/v1/usage", headers={"x-api-key": key}).json()["prompt_tokens"] < TEST_FREE_TOKENS_PER_DAY:
        assert time.monotonic() < deadline, "usage was never recorded"
        time.sleep(0.1)
    calls_before = len(ai.calls())

    response = anonymous.post("/stream/chat", headers={"x-api-key": key}, json=CHAT)

    assert response.status_code == 429
    assert response.json()["error"]["reason"] == "token_quota"
    assert int(response.headers["retry-after"]) <= 86_400
    assert len(ai.calls()) == calls_before  # the model saw nothing


def test_a_free_key_over_its_per_minute_limit_gets_429_with_retry_after(anonymous, new_key, clock):
    key = new_key("free")["key"]
    clock.next_minute(second=17)  # all 21 requests in one window, 43 s before its end
    responses = [anonymous.get("/v1/models", headers={"x-api-key": key}) for _ in range(21)]

    assert [r.status_code for r in responses] == [200] * 20 + [429]
    refused = responses[-1]
    assert refused.json()["error"]["reason"] == "rate_limit"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    retry_after = int(refused.headers["retry-after"])
    assert retry_after == int(refused.headers["x-ratelimit-reset"])
    # The seconds left in the window at the moment the service counted the request.
    assert retry_after == 43


def test_a_model_outside_the_tier_is_a_403(anonymous, new_key):
    key = new_key("free")["key"]

    response = anonymous.post("/stream/chat", headers={"x-api-key": key}, json={**CHAT, "model": "llama-3.3-70b"})

    assert response.status_code == 403
    assert response.json()["error"]["field"] == "model"


def test_usage_counts_the_callers_requests_and_tokens(anonymous, new_key):
    key = new_key("pro")["key"]
    anonymous.post("/stream/chat", headers={"x-api-key": key}, json=CHAT).raise_for_status()

    deadline = time.monotonic() + 10
    while (usage := anonymous.get("/v1/usage", headers={"x-api-key": key}).json())["requests"] < 1:
        assert time.monotonic() < deadline, "usage was never recorded"
        time.sleep(0.1)
    assert usage["tier"] == "pro"
    assert usage["completion_tokens"] > 0
    assert usage["limits"]["requests_per_minute"] == 300


def test_preflight_from_an_allowed_origin_needs_no_credentials(anonymous):
    response = anonymous.options("/stream/chat", headers={"origin": "http://localhost:3000",
                                                         "access-control-request-method": "POST",
                                                         "access-control-request-headers": "authorization, content-type"})

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_preflight_from_another_origin_is_refused(anonymous):
    response = anonymous.options("/stream/chat", headers={"origin": "https://evil.example",
                                                         "access-control-request-method": "POST"})

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_responses_to_an_allowed_origin_expose_the_useful_headers(client):
    response = client.get("/v1/models", headers={"origin": "http://localhost:5173"})

    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "x-ratelimit-remaining" in response.headers["access-control-expose-headers"]


def test_security_headers_on_every_response(anonymous):
    for response in (anonymous.get("/health"), anonymous.get("/nope"), anonymous.get("/v1/models")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "max-age" in response.headers["strict-transport-security"]
