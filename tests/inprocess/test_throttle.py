"""A client address that keeps presenting bad credentials is held back (429) whatever it sends
next, valid key included, so it cannot learn whether a guess was right. On a host of its own:
the main test host allows the suite's own deliberate failures."""

import httpx
import pytest

from tests.inprocess.host import ORIGIN, InProcessHost

ADMIN = "throttle-admin-token"
ALLOWANCE = 5


@pytest.fixture(scope="module")
def throttled():
    host = InProcessHost({"ADMIN_TOKEN": ADMIN, "FAILED_AUTH_PER_MINUTE": str(ALLOWANCE)})
    # The client's address, as the runtime tells the worker (cf-connecting-ip).
    with httpx.Client(base_url=ORIGIN, transport=host.transport(), headers={"cf-connecting-ip": "203.0.113.7"}) as client:
        yield client
    host.close()


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
