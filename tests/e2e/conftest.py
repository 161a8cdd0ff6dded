"""End-to-end fixtures: a local host on a free port with its own state folder, or the server
named by E2E_BASE_URL (wrangler dev, a deployment; E2E_ADMIN_TOKEN is then its admin token)
for the tests that do not need the local host's knobs.

Locally every test runs on the real workerd, on an instrumented host: its control routes can make
a binding's calls fail and show the Analytics Engine points written (`needs_faults` marks the
tests that need them, which a remote server cannot run)."""

import json
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import openai
import pytest

from scripts.jwt_token import claims_for
from scripts.localhost import FRESH_CONNECTIONS, PROJECT_ROOT, LocalHost, free_port
from scripts.snapshots import dev_baseline, start_pair
from shared import jwt
from tests.e2e.hosts import EarlyHosts

E2E_BASE_URL = os.environ.get("E2E_BASE_URL", "").rstrip("/")
LOCAL = not E2E_BASE_URL

# Secrets of the test host only (given as --var, as `wrangler dev --var` would take them).
TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef"
# Free-tier daily quotas small enough for a test to use them up.
TEST_FREE_TOKENS_PER_DAY = 40
TEST_FREE_EVENTS_PER_DAY = 5
TEST_PROVIDER = "standin-provider"
TEST_PROVIDER_KEY = "test-provider-key-0123456789"
TEST_PROVIDER_MODEL = "standin-mistral-large"
TEST_PRO_DAILY_BUDGET_USD = 0.05
TEST_GATEWAY = "test-gateway"
TEST_PROVIDER_KEY_SECRET = "STANDIN_PROVIDER_API_KEY"
# A provider's circuit, once open, passes it over this long (30 s deployed by default).
TEST_PROVIDER_COOLDOWN_SECONDS = 1
TEST_RETENTION_DAYS = 20
# Alerts go to a webhook a test serves on this port (tests/e2e/test_key_policy.py), signed with this secret.
TEST_ALERT_WEBHOOK_PORT = free_port()
TEST_ALERT_WEBHOOK_SECRET = "test-alert-webhook-secret-0123"
TEST_PAYLOAD_LOGGED_SUBJECT = "payload-logged-user"

# The test host's vars (both workers), also the in-process host's (tests/inprocess/conftest.py).
SEMANTIC_CALLERS = ("semantic-a", "semantic-b")
HOST_VARIABLES = {
    # A short RPC deadline and backoff keep the failure tests quick.
    "INFERENCE_TIMEOUT_MS": "3000",
    "RETRY_BACKOFF_MS": "10",
    # A stalled model stream is given up on after a second (30 s deployed).
    "MODEL_IDLE_TIMEOUT_MS": "1000",
    # A streamed answer is cut off after 5 s, however steadily the model sends (5 min deployed).
    "STREAM_TIMEOUT_MS": "5000",
    "ADMIN_TOKEN": TEST_ADMIN_TOKEN,
    "JWT_SECRET": TEST_JWT_SECRET,
    "TIER_FREE_TOKENS_PER_DAY": str(TEST_FREE_TOKENS_PER_DAY),
    "TIER_FREE_EVENTS_PER_DAY": str(TEST_FREE_EVENTS_PER_DAY),
    # The suite presents bad credentials on purpose, all from 127.0.0.1 (test_throttle.py tests the 20).
    "FAILED_AUTH_PER_MINUTE": "100000",
    # Off by default (billed model calls); on here, so the tests can see it work.
    "EVENTS_ENRICHMENT": "true",
    # A batch the queue consumer fails on is retried at once (2 s, doubling, deployed).
    "EVENT_RETRY_BASE_SECONDS": "0",
    # Events older than this are purged by the cron (30 deployed; events may be 30 days old).
    "EVENTS_RETENTION_DAYS": str(TEST_RETENTION_DAYS),
    # Provider routing (test_providers.py): PROVIDERS (providers_of_test_host, once the host's URL is
    # known) maps one model to the external provider, its key in this secret.
    TEST_PROVIDER_KEY_SECRET: TEST_PROVIDER_KEY,
    "ROUTING_RULES": json.dumps([{"provider": TEST_PROVIDER, "complexity": "high"},
                                 {"provider": TEST_PROVIDER, "min_prompt_tokens": 2000}]),
    "TIER_PRO_DAILY_BUDGET_USD": str(TEST_PRO_DAILY_BUDGET_USD),
    "ALERT_WEBHOOK_URL": f"http://127.0.0.1:{TEST_ALERT_WEBHOOK_PORT}/alerts",
    "ALERT_WEBHOOK_SECRET": TEST_ALERT_WEBHOOK_SECRET,
    # The pro tier's keys share their cached answers (test_generation_cache.py); other callers keep their own.
    "GENERATION_CACHE_SCOPE": "tier:pro",
    # The Cache API in front of KV (off by default), so that the tests see it serve.
    "GENERATION_CACHE_EDGE": "true",
    # The semantic cache, for two JWT subjects only (its embeddings would be calls other tests count).
    "SEMANTIC_CACHE": f"key:jwt:{SEMANTIC_CALLERS[0]}, key:jwt:{SEMANTIC_CALLERS[1]}",
    # Every Workers AI call through an AI Gateway (the stand-in records the option, and names a log).
    "AI_GATEWAY_ID": TEST_GATEWAY,
    "AI_GATEWAY_CACHE_TTL": "600",
    "AI_GATEWAY_METADATA": json.dumps({"deployment": "e2e"}),
    # Payload logs (test_payload_logs.py): this JWT user's prompts and answers are kept.
    "PAYLOAD_LOG_KEYS": f"jwt:{TEST_PAYLOAD_LOGGED_SUBJECT}",
}



def providers_of_test_host(url: str) -> str:
    """PROVIDERS for a test host whose provider stand-in answers at `url`: one model mapped, at
    prices high enough for a few calls to spend the pro tier's daily budget."""
    return json.dumps([{"name": TEST_PROVIDER, "url": url, "key_secret": TEST_PROVIDER_KEY_SECRET,
                        "cooldown_seconds": TEST_PROVIDER_COOLDOWN_SECONDS,
                        "models": {"mistral-small-3.1": {"model": TEST_PROVIDER_MODEL, "input_price": 500, "output_price": 1000}}}])


host_only = pytest.mark.skipif(bool(E2E_BASE_URL), reason="needs the local host (E2E_BASE_URL is set)")
# Injected binding faults (D1, KV, R2, an RPC method failing) and the Analytics Engine points kept
# for inspection: the local host's control routes.
needs_faults = pytest.mark.skipif(bool(E2E_BASE_URL), reason="injects binding faults or reads kept Analytics Engine points (local host only)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with what its host printed last (both workers' logs)."""
    outcome = yield
    report = outcome.get_result()
    hosts = [value for value in getattr(item, "funcargs", {}).values() if isinstance(value, LocalHost)]
    if report.failed:
        for host in hosts:
            report.sections.append(("host log (last 40 lines)", "\n".join(host.lines[-40:])))


CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
FIXTURES = PROJECT_ROOT / "tests" / "e2e" / "fixtures"
FORWARDING_ADMIN_TOKEN = "forwarding-admin-token"


def kept_baseline() -> Path | None:
    """The baseline snapshot `make dev` restores its workers from (saved on a first start; without
    it if it cannot be saved, as make dev): the test hosts start as make dev's does."""
    try:
        return dev_baseline()
    except (RuntimeError, OSError):
        return None


def instrumented_host(state_dir: Path) -> LocalHost:
    """The instrumented local host the tests run on, with the test settings above."""
    local = LocalHost(CONFIGS, state_dir, variables=dict(HOST_VARIABLES), instrumented=True, snapshot=kept_baseline())
    # The external provider is the AI stand-in's OpenAI-compatible face, on the same host.
    local.variables["PROVIDERS"] = providers_of_test_host(f"{local.url}/__devhost/openai/v1")
    return local


# The steering host's settings (tests/e2e/test_steering.py): the pro tier's prompts and the free
# tier's answers checked by the moderation model; llama-3.1-8b split 90/10 with llama-3.3-70b.
STEERING_VARIABLES = {
    "GUARDRAILS": json.dumps({"tiers": {"pro": ["prompt"], "free": ["answer"]}}),
    "TRAFFIC_SPLITS": json.dumps([{"name": "canary", "models": ["llama-3.1-8b"], "sticky": "conversation",
                                   "arms": [{"name": "A", "weight": 90}, {"name": "B", "weight": 10, "model": "llama-3.3-70b"}]}]),
}


def steering_host(state_dir: Path) -> LocalHost:
    """An instrumented host with guardrails and a traffic split (the session host has neither)."""
    local = LocalHost(CONFIGS, state_dir, variables={**HOST_VARIABLES, **STEERING_VARIABLES}, instrumented=True,
                      snapshot=kept_baseline())
    local.variables["PROVIDERS"] = providers_of_test_host(f"{local.url}/__devhost/openai/v1")  # the provider ROUTING_RULES name
    return local


def forwarding_host(state_dir: Path) -> LocalHost:
    """A second host whose Workers AI stand-in forwards every model call to the session host's
    /v1 (an OpenAI-compatible server), as an enterprise caller with a JWT of the session host's."""
    upstream = EARLY_HOSTS.get("host")
    token = jwt.encode(claims_for("forwarding-upstream", "enterprise", minutes=24 * 60), TEST_JWT_SECRET)
    environment = {"DEVHOST_AI_FORWARD_URL": f"{upstream.url}/v1", "DEVHOST_AI_FORWARD_KEY": token}
    return LocalHost(CONFIGS, state_dir, variables={"ADMIN_TOKEN": FORWARDING_ADMIN_TOKEN}, environment=environment,
                     snapshot=kept_baseline())


def rpc_probe_host(state_dir: Path) -> LocalHost:
    """Two test-only workers (tests/e2e/fixtures) that show how the local service bindings carry RPC."""
    return LocalHost([FIXTURES / "rpc_caller" / "wrangler.toml", FIXTURES / "rpc_target" / "wrangler.toml"], state_dir)


class RestoredPair:
    """The api and the inference worker as Cloudflare starts them: each restored from its dedicated
    snapshot, saved in `directory` (scripts/snapshots.py "dedicated-alone": without the baseline
    underneath, one process less to save each), in a process of its own, beside its twin (the
    same code under another name, restored from the same snapshot: `api.twin_url`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._running = ExitStack()

    def start(self) -> "RestoredPair":
        return self

    def wait_ready(self) -> "RestoredPair":
        # /health reads no table: no D1 migrations needed.
        pair = start_pair("dedicated-alone", self.directory, variables={"ADMIN_TOKEN": "restored-pair-admin"}, migrate=False,
                          twins=True)
        self.api, self.inference = self._running.enter_context(pair)
        return self

    def __exit__(self, *exc) -> None:
        self._running.close()


# Every local host of the run, by the fixture that yields it, in the order they start.
EARLY_HOSTS = EarlyHosts({"host": instrumented_host, "forwarding_host": forwarding_host, "rpc_probe_host": rpc_probe_host,
                          "restored_pair": RestoredPair, "steering_host": steering_host})


def pytest_collection_finish(session):
    if LOCAL and not session.config.option.collectonly:
        used = {name for item in session.items for name in getattr(item, "fixturenames", ())}
        EARLY_HOSTS.start_in_background(used)


def pytest_sessionfinish(session):
    EARLY_HOSTS.stop_all()


@pytest.fixture(scope="session")
def host():
    return EARLY_HOSTS.get("host") if LOCAL else None


@pytest.fixture(scope="session")
def forwarding_host():
    return EARLY_HOSTS.get("forwarding_host")


@pytest.fixture(scope="session")
def rpc_probe_host():
    return EARLY_HOSTS.get("rpc_probe_host")


@pytest.fixture(scope="session")
def steering_host():
    return EARLY_HOSTS.get("steering_host")


@pytest.fixture(scope="session")
def restored_pair() -> RestoredPair:
    return EARLY_HOSTS.get("restored_pair")


@pytest.fixture(scope="session")
def base_url(host):
    return host.url if host else E2E_BASE_URL


@pytest.fixture(scope="session")
def admin_token():
    return os.environ.get("E2E_ADMIN_TOKEN", TEST_ADMIN_TOKEN) if E2E_BASE_URL else TEST_ADMIN_TOKEN


@pytest.fixture(scope="session")
def anonymous(base_url):
    """A client with no credentials."""
    with httpx.Client(base_url=base_url, timeout=30, limits=FRESH_CONNECTIONS) as http:
        yield http


def key_creator(client: httpx.Client, admin_token: str) -> Callable[..., dict]:
    """Creates an API key on the server `client` speaks to, through the admin GraphQL API:
    {"key", "id", "tier"}."""

    def create(tier: str = "free", name: str = "e2e") -> dict:
        response = client.post(
            "/graphql",
            json={"query": "mutation($n: String!, $t: Tier) { createApiKey(name: $n, tier: $t) { key apiKey { id tier } } }",
                  "variables": {"n": name, "t": tier.upper()}},
            headers={"authorization": f"Bearer {admin_token}"},
        )
        created = response.json()["data"]["createApiKey"]
        return {"key": created["key"], "id": created["apiKey"]["id"], "tier": tier}

    return create


@pytest.fixture(scope="session")
def new_key(anonymous, admin_token) -> Callable[..., dict]:
    return key_creator(anonymous, admin_token)


@pytest.fixture(scope="session")
def api_key(new_key):
    """The session's key: enterprise tier, so the suite stays far from its rate limit."""
    return new_key("enterprise", "e2e-session")["key"]


@pytest.fixture(scope="session")
def client(base_url, api_key):
    with httpx.Client(base_url=base_url, timeout=30, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {api_key}"}) as http:
        yield http


class HostControl:
    """The local host's control routes (/__devhost/...): the Workers AI stand-in's knobs,
    injected faults, R2 contents, and the cron trigger."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def set(self, **knobs) -> None:
        self.client.post("/__devhost/ai", json=knobs).raise_for_status()

    def fail_next(self, *failures: dict) -> None:
        self.set(failures=list(failures))

    def calls(self) -> list[dict]:
        return self.client.get("/__devhost/ai").json()["calls"]

    def fault(self, target: str, message: str, count: int = 1, match: str = "") -> None:
        rule = {"target": target, "message": message, "count": count, "match": match}
        self.client.post("/__devhost/faults", json=rule).raise_for_status()

    def r2_keys(self, prefix: str) -> list[str]:
        return self.client.get("/__devhost/r2/inference-service/ARCHIVE", params={"prefix": prefix}).json()["keys"]

    def r2_text(self, key: str) -> str:
        response = self.client.get("/__devhost/r2/inference-service/ARCHIVE", params={"key": key})
        response.raise_for_status()
        return response.text

    def put_r2(self, key: str, text: str, metadata: dict[str, str] | None = None) -> None:
        self.client.put("/__devhost/r2/inference-service/ARCHIVE", params={"key": key, "metadata": json.dumps(metadata or {})},
                        content=text).raise_for_status()

    def fire_cron(self) -> None:
        response = self.client.post("/__devhost/scheduled", json={})
        response.raise_for_status()
        fired = response.json()["fired"]
        assert fired and set(fired.values()) == {"ok"}, f"a scheduled handler failed: {fired}"

    def reset(self) -> None:
        self.client.delete("/__devhost/ai").raise_for_status()
        self.client.delete("/__devhost/faults").raise_for_status()


@pytest.fixture
def ai(anonymous):
    if E2E_BASE_URL:
        pytest.skip("needs the local host's Workers AI stand-in")
    control = HostControl(anonymous)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def sdk(base_url, api_key):
    """OpenAI's own Python client, pointed at this server's /v1 (nothing else changed)."""
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0) as client:
        yield client


@pytest.fixture
def control(ai):
    """The same control routes, named for what a test does with them beyond the AI stand-in."""
    return ai


def landed(client: httpx.Client, accepted: httpx.Response, headers: dict | None = None, timeout: float = 20) -> dict:
    """A batch once indexed: POST /events answers 202 when the batch is stored and queued, and the
    queue consumer indexes it shortly after; GET /events/batches/{id} says when, as a client
    would ask. Its status: {"indexed", "received", "accepted", "duplicates"}."""
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    if body.get("batchId") is None:  # a GraphQL trackEvents answer
        body = body["data"]["trackEvents"]
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/events/batches/{body['batchId']}", headers=headers).json()
        if status["indexed"] or time.monotonic() > deadline:
            assert status["indexed"], f"batch {body['batchId']} not indexed within {timeout} s"
            return status
        time.sleep(0.3)
