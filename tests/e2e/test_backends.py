"""Two inference backends behind one api worker, on the local runtime: the api's bindings written
by `make bindings` (scripts/bindings.py) from a two-line list, the second backend the same
inference worker under another name (`-c inference_worker/wrangler.toml@inference-service-2`),
both on one database. The AI stand-in fails every call from a named worker on demand: a
backend whose model account is out of capacity."""

import time
from collections import Counter
from contextlib import contextmanager

import httpx

from scripts.localhost import FRESH_CONNECTIONS, PROJECT_ROOT, LocalHost
from tests.e2e.conftest import HostControl, host_only

pytestmark = host_only
ADMIN = "backends-admin-token"
SECOND = "inference-service-2"
COOLDOWN_SECONDS = 2
FAILURES_TO_OPEN = 3


@contextmanager
def two_backends(folder):
    """The local host with two inference backends, and a client with an enterprise key."""
    (folder / "backends.txt").write_text(f"inference-service\n{SECOND}  # one line a backend\n")
    # At the project's root, so that the config's relative paths (main, base_dir) hold.
    config = PROJECT_ROOT / ".test-backends.wrangler.toml"
    config.write_text((PROJECT_ROOT / "wrangler.toml").read_text())
    try:
        from scripts import bindings
        config.write_text(bindings.with_block(config.read_text(), bindings.read_backends(folder / "backends.txt")))
        inference = PROJECT_ROOT / "inference_worker" / "wrangler.toml"
        variables = {"ADMIN_TOKEN": ADMIN, "BACKEND_FAILURES": str(FAILURES_TO_OPEN),
                     "BACKEND_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS), "RETRY_BACKOFF_MS": "1", "MODEL_ATTEMPTS": "1", "FALLBACK_MODELS": ""}
        with LocalHost([config, inference, f"{inference}@{SECOND}"], folder / "state", variables=variables, instrumented=True) as host:
            created = httpx.post(f"{host.url}/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
                "query": 'mutation { createApiKey(name: "pool", tier: ENTERPRISE) { key } }'}).json()
            key = created["data"]["createApiKey"]["key"]
            with httpx.Client(base_url=host.url, timeout=30, limits=FRESH_CONNECTIONS,
                              headers={"authorization": f"Bearer {key}"}) as client:
                control = HostControl(client)
                control.reset()
                yield client, control
    finally:
        config.unlink(missing_ok=True)


def rate_window(response: httpx.Response) -> int | None:
    """The minute the response's request was counted in, read as the response arrives (the
    window ends on a whole minute, `x-ratelimit-reset` seconds after it was counted); None if it
    was not counted."""
    reset = response.headers.get("x-ratelimit-reset")
    return round((time.time() + int(reset)) / 60) if reset is not None else None


def test_requests_that_fail_over_before_they_were_counted_are_counted_by_the_next_backend(tmp_path):
    """The second backend's JS RPC method throws on workerd before it admits anything (an
    injected fault): every request the rotation sends there first fails over, and the backend
    that answers counts it, so a limit of 20 a minute lets exactly 20 through. (The same in
    process, with the clock held: tests/inprocess/test_backends.py.)"""
    with two_backends(tmp_path) as (client, control):
        control.fault(f"{SECOND}.generate", "Network connection lost", count=-1)
        # The 25 requests must share a minute: a run the minute turned during is run again with a
        # new key, in a minute it has just begun.
        for _ in range(2):
            created = client.post("/graphql", headers={"authorization": f"Bearer {ADMIN}"}, json={
                "query": 'mutation { createApiKey(name: "failover", tier: FREE) { key } }'}).json()
            headers = {"authorization": f"Bearer {created['data']['createApiKey']['key']}"}
            responses, windows = [], set()
            for _ in range(25):
                responses.append(client.post("/v1/chat/completions", headers=headers, json={
                    "model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}]}))
                windows.add(rate_window(responses[-1]))
            if len(windows) == 1:
                break

    assert Counter(r.status_code for r in responses) == {200: 20, 429: 5}, windows
    assert len(windows) == 1 and None not in windows
    assert {r.headers["x-inference-backend"] for r in responses if r.status_code == 200} == {"INFERENCE"}
