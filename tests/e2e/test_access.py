"""Access control: credentials on every route but /health, keys, JWTs, tiers, the per-minute
rate limit, daily quotas, CORS and the headers every response carries."""

import time

from shared import jwt
from tests.e2e.conftest import TEST_JWT_SECRET, host_only, needs_faults

CHAT = {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hello"}]}]}


def token(**claims):
    now = int(time.time())
    return jwt.encode({"sub": "user-42", "tier": "pro", "iat": now, "exp": now + 600, **claims}, TEST_JWT_SECRET)


@host_only
def test_no_key_or_secret_reaches_the_logs(host, anonymous, new_key, admin_token):
    created = new_key("pro", "log-check")
    jwt_token = token()
    anonymous.post("/stream/chat", headers={"x-api-key": created["key"]}, json=CHAT)
    anonymous.get("/v1/usage", headers={"authorization": f"Bearer {jwt_token}"})
    wrong_key = created["key"][:-1] + ("y" if created["key"].endswith("x") else "x")
    anonymous.get("/v1/models", headers={"x-api-key": wrong_key})  # a wrong key, logged?
    time.sleep(0.5)

    log = host.log()
    assert "POST /stream/chat" in log  # the capture is working
    assert f'"credential":"key:{created["key"].split("_")[1]}"' in log  # the prefix is how a key shows up
    for secret in (created["key"], wrong_key, jwt_token, admin_token, TEST_JWT_SECRET):
        assert secret not in log
    assert created["key"].split("_", 2)[2] not in log


@needs_faults
def test_an_unknown_key_prefix_is_refused_from_memory_like_a_known_one(anonymous, control):
    guess = "iui_nosuchpf_" + "x" * 40
    assert anonymous.get("/v1/usage", headers={"x-api-key": guess}).status_code == 401
    control.fault("inference-service.DB.first", "D1 is unavailable", count=5, match="FROM api_keys")

    again = anonymous.get("/v1/usage", headers={"x-api-key": guess})

    # Remembered as unknown, as a known prefix is remembered as known: no D1 read, the same path
    # and time for both (no oracle for which prefixes exist).
    assert again.status_code == 401
