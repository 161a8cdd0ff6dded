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
    with LocalHost(configs, tmp_path_factory.mktemp("state")) as host:
        yield host.url


@pytest.fixture(scope="session")
def client(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http
