"""A client address that keeps presenting bad credentials is held back (429) whatever it sends
next, valid key included, so it cannot learn whether a guess was right. On a host of its own:
the main test host allows the suite's own deliberate failures."""

import httpx
import pytest

from scripts.localhost import FRESH_CONNECTIONS, PROJECT_ROOT, LocalHost
from tests.e2e.conftest import host_only

pytestmark = host_only
CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
ADMIN = "throttle-admin-token"
ALLOWANCE = 5


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    variables = {"ADMIN_TOKEN": ADMIN, "FAILED_AUTH_PER_MINUTE": str(ALLOWANCE)}
    with LocalHost(CONFIGS, tmp_path_factory.mktemp("throttle"), variables=variables) as host:
        with httpx.Client(base_url=host.url, timeout=30, limits=FRESH_CONNECTIONS) as client:
            yield client


def test_guessed_keys_are_refused_then_held_back_even_a_valid_one(throttled):
    created = throttled.post("/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
        "query": 'mutation { createApiKey(name: "t", tier: PRO) { key } }'}).json()
    valid = created["data"]["createApiKey"]["key"]
    guesses = [f"iui_guess{i:03d}_{'x' * 40}" for i in range(ALLOWANCE)]

    statuses = [throttled.get("/v1/usage", headers={"x-api-key": guess}).status_code for guess in guesses]
    held = throttled.get("/v1/usage", headers={"x-api-key": valid})

    assert statuses == [401] * ALLOWANCE
    assert held.status_code == 429
    assert held.json()["error"]["reason"] == "too_many_failed_credentials"
    assert 1 <= int(held.headers["retry-after"]) <= 60
    assert throttled.get("/health").status_code == 200  # /health needs no credentials and is never held back
