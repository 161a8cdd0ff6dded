"""The smoke test a deploy runs (scripts/smoke.py), against a stand-in deployment: a local HTTP
server answering /health, /health?deep=1 and /openapi.json as the api would, healthy or not."""

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.conftest import ROOT

SMOKE = ["python3", str(ROOT / "scripts" / "smoke.py")]
ADMIN = "smoke-admin-token"
BINDINGS = {"DB": {"ok": True}, "AI": {"ok": True}}


def deep_report(second_ok: bool) -> dict:
    second = {"status": "ok", "bindings": BINDINGS} if second_ok else \
        {"status": "degraded", "bindings": {**BINDINGS, "AI": {"ok": False, "error": "AiError: 4006: daily allocation"}}}
    return {"status": "ok" if second_ok else "degraded",
            "backends": {"INFERENCE": {"status": "ok", "bindings": BINDINGS, "circuit": {"state": "closed", "failures": 0}},
                         "INFERENCE_2": {**second, "circuit": {"state": "closed", "failures": 0}}}}


class Deployment:
    """What the stand-in answers: `healthy` for the public check, `second_ok` for the deep one;
    `public_failures`: how many public checks fail first (a version still on its way)."""

    def __init__(self) -> None:
        self.healthy, self.second_ok, self.public_failures = True, True, 0
        self.seen: list[tuple[str, str | None]] = []


@pytest.fixture
def deployment() -> Iterator[tuple[Deployment, str]]:
    state = Deployment()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            state.seen.append((self.path, self.headers.get("authorization")))
            if self.path == "/health":
                failing = state.public_failures > 0 or not state.healthy
                state.public_failures -= 1
                self._answer(503 if failing else 200, {"status": "down" if failing else "ok"})
            elif self.path == "/health?deep=1":
                if self.headers.get("authorization") != f"Bearer {ADMIN}":
                    self._answer(401, {"error": {"code": "unauthorized"}})
                else:
                    self._answer(200 if state.second_ok else 503, deep_report(state.second_ok))
            elif self.path == "/openapi.json":
                self._answer(200, {"openapi": "3.1.0", "paths": {}})
            else:
                self._answer(404, {"error": {"code": "not_found"}})

        def _answer(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def smoke(url: str, token: str | None = ADMIN, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("ADMIN_TOKEN", "SMOKE_TEST_URL")}
    return subprocess.run([*SMOKE, "--url", url, "--interval", "0", *args], capture_output=True, text=True, timeout=60,
                          env={**env, **({"ADMIN_TOKEN": token} if token else {})})


def test_a_healthy_deployment_passes_every_check_the_deep_one_with_the_admin_token(deployment):
    state, url = deployment

    result = smoke(url)

    assert result.returncode == 0, result.stdout
    assert "smoke test passed" in result.stdout
    assert ("/health?deep=1", f"Bearer {ADMIN}") in state.seen


def test_a_backend_failing_the_deep_check_fails_the_smoke_test_naming_it(deployment):
    state, url = deployment
    state.second_ok = False

    result = smoke(url, ADMIN, "--attempts", "2")

    assert result.returncode == 1
    assert "smoke test failed: the deep health check of every backend" in result.stdout
    assert "INFERENCE_2" in result.stdout and "4006" in result.stdout
    assert state.seen.count(("/health?deep=1", f"Bearer {ADMIN}")) == 2  # tried --attempts times


def test_a_version_still_on_its_way_is_waited_for(deployment):
    state, url = deployment
    state.public_failures = 2

    result = smoke(url, ADMIN, "--attempts", "3")

    assert result.returncode == 0, result.stdout
    assert "attempt 2/3 failed" in result.stdout


def test_without_the_admin_token_the_deep_check_is_skipped_and_said_so(deployment):
    state, url = deployment
    state.second_ok = False

    result = smoke(url, None)

    assert result.returncode == 0, result.stdout
    assert "deep check was skipped" in result.stdout
    assert all(path != "/health?deep=1" for path, _ in state.seen)


def test_an_unreachable_deployment_fails(deployment):
    _, url = deployment

    result = smoke(url.rsplit(":", 1)[0] + ":9", ADMIN, "--attempts", "1")  # the discard port: nothing listens

    assert result.returncode == 1 and "smoke test failed: the public health check" in result.stdout
