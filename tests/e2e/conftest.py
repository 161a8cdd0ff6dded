"""End-to-end fixtures: a local host on a free port with its own state folder, or the server
named by E2E_BASE_URL (wrangler dev, a deployment) for the tests that do not need the host."""

import os

import httpx
import pytest

from tests.e2e.localhost import LocalHost, PROJECT_ROOT

E2E_BASE_URL = os.environ.get("E2E_BASE_URL", "").rstrip("/")

host_only = pytest.mark.skipif(bool(E2E_BASE_URL), reason="needs the local host (E2E_BASE_URL is set)")


@pytest.fixture(scope="session")
def base_url(tmp_path_factory):
    if E2E_BASE_URL:
        yield E2E_BASE_URL
        return
    configs = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
    # A short RPC deadline and backoff keep the failure tests quick.
    variables = {"INFERENCE_TIMEOUT_MS": "3000", "RETRY_BACKOFF_MS": "10"}
    with LocalHost(configs, tmp_path_factory.mktemp("state"), variables=variables) as host:
        yield host.url


@pytest.fixture(scope="session")
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


LOCAL = not E2E_BASE_URL


class AiControl:
    """The local host's Workers AI stand-in knobs (/__devhost/ai): latency and failures."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def set(self, **knobs) -> None:
        self.client.post("/__devhost/ai", json=knobs).raise_for_status()

    def fail_next(self, *failures: dict) -> None:
        self.set(failures=list(failures))

    def calls(self) -> list[dict]:
        return self.client.get("/__devhost/ai").json()["calls"]

    def fault(self, target: str, message: str, count: int = 1) -> None:
        self.client.post("/__devhost/faults", json={"target": target, "message": message, "count": count}).raise_for_status()

    def reset(self) -> None:
        self.client.delete("/__devhost/ai").raise_for_status()
        self.client.delete("/__devhost/faults").raise_for_status()


@pytest.fixture
def ai(client):
    if E2E_BASE_URL:
        pytest.skip("needs the local host's Workers AI stand-in")
    control = AiControl(client)
    control.reset()
    yield control
    control.reset()
