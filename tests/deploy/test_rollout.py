"""`npm run deploy:canary|promote|abort` (scripts/rollout.py) against a fake wrangler that logs its
calls: the canary uploads and splits every worker, inference workers first, at the percentage
asked; promote and abort take them to 100% of the new or the previous version, in the safe order;
a failed smoke test of the api, or a failed step, aborts what was already split."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, project_with_backends

ROLLOUT = [sys.executable, str(ROOT / "scripts" / "rollout.py")]
# Serving now, per worker: one version; an upload prints the next new version's id.
FAKE = '''#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
here = pathlib.Path({log!r}).parent
with open({log!r}, "a") as log:
    log.write(os.path.basename(os.getcwd()) + " " + " ".join(args) + "\\n")
if {fail_on!r} and {fail_on!r} in " ".join(args):
    sys.exit(3)
if args[:2] == ["deployments", "status"]:
    name = args[args.index("--name") + 1]
    print(json.dumps({{"versions": [{{"version_id": "old-" + name, "percentage": 100}}]}} | json.loads({split!r} or "{{}}")))
elif args[:2] == ["versions", "upload"]:
    counter = here / "uploads"
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    print("Uploaded\\nWorker Version ID: new-" + str(count))
'''


def fake_wrangler(tmp_path: Path, fail_on: str = "", split: str = "") -> tuple[Path, Path]:
    log = tmp_path / "calls.log"
    tool = tmp_path / "fake-wrangler"
    tool.write_text(FAKE.format(python=sys.executable, log=str(log), fail_on=fail_on, split=split))
    tool.chmod(0o755)
    return tool, log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


class Health(BaseHTTPRequestHandler):
    ok = True

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"ok": self.ok}).encode()
        self.send_response(200 if self.ok else 503)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(request):
    """A deployed api's stand-in: its /health answers ok, or 503 when the test says `healthy=False`."""
    handler = type("Handler", (Health,), {"ok": getattr(request, "param", True)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def rollout(project: Path, tool: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ROLLOUT, "--root", str(project), "--tool", str(tool), *arguments], capture_output=True, text=True)


@pytest.fixture
def project(tmp_path):
    return project_with_backends(tmp_path, "inference-service", "inference-eu")


CANARY_STAGING = [
    "inference_worker deployments status --name inference-service-staging --json",
    "inference_worker versions upload --env staging --tag canary --message canary canary --var A:b",
    "inference_worker d1 migrations apply DB --remote --env staging",
    "inference_worker versions deploy new-1@10% old-inference-service-staging@90% --name inference-service-staging --message canary canary at 10% --yes",
    "inference_worker deployments status --name inference-eu-staging --json",
    "inference_worker versions upload -c .inference-eu.wrangler.toml --env staging --tag canary --message canary canary --var A:b",
    "inference_worker versions deploy new-2@10% old-inference-eu-staging@90% --name inference-eu-staging --message canary canary at 10% --yes",
    "project deployments status --name inference-ui-api-staging --json",
    "project versions upload --env staging --tag canary --message canary canary --var A:b",
    "project versions deploy new-3@10% old-inference-ui-api-staging@90% --name inference-ui-api-staging --message canary canary at 10% --yes",
]


def test_a_canary_splits_every_worker_at_the_percentage_inference_workers_first(project, tmp_path, api):
    tool, log = fake_wrangler(tmp_path)

    result = rollout(project, tool, "canary", "--percent", "10", "--env", "staging", "--smoke-url", api, "--", "--var", "A:b")

    assert result.returncode == 0, result.stdout + result.stderr
    assert calls(log) == CANARY_STAGING
    assert "smoke test: GET" in result.stdout


def test_promote_takes_the_new_versions_to_100_percent_inference_workers_first(project, tmp_path, api):
    tool, log = fake_wrangler(tmp_path)
    rollout(project, tool, "canary", "--percent", "25", "--env", "production")
    log.unlink()

    result = rollout(project, tool, "promote", "--env", "production", "--smoke-url", api)

    assert result.returncode == 0, result.stdout + result.stderr
    assert calls(log) == [
        "inference_worker versions deploy new-1@100% --name inference-service --message promote --yes",
        "inference_worker versions deploy new-2@100% --name inference-eu --message promote --yes",
        "project versions deploy new-3@100% --name inference-ui-api --message promote --yes",
    ]
    assert rollout(project, tool, "promote", "--env", "production").returncode == 1  # nothing recorded any more


def test_abort_puts_the_previous_versions_back_the_api_first(project, tmp_path):
    tool, log = fake_wrangler(tmp_path)
    rollout(project, tool, "canary", "--percent", "10")
    log.unlink()

    result = rollout(project, tool, "abort")

    assert result.returncode == 0, result.stdout + result.stderr
    assert calls(log) == [
        "project versions deploy old-inference-ui-api@100% --name inference-ui-api --message abort --yes",
        "inference_worker versions deploy old-inference-eu@100% --name inference-eu --message abort --yes",
        "inference_worker versions deploy old-inference-service@100% --name inference-service --message abort --yes",
    ]


@pytest.mark.parametrize("api", [False], indirect=True)
def test_a_failed_smoke_test_after_the_canary_aborts_it(project, tmp_path, api):
    tool, log = fake_wrangler(tmp_path)

    result = rollout(project, tool, "canary", "--percent", "10", "--env", "staging", "--smoke-url", api, "--", "--var", "A:b")

    assert result.returncode == 1 and "smoke test failed" in result.stdout
    assert calls(log) == CANARY_STAGING + [
        "project versions deploy old-inference-ui-api-staging@100% --name inference-ui-api-staging --message abort --yes",
        "inference_worker versions deploy old-inference-eu-staging@100% --name inference-eu-staging --message abort --yes",
        "inference_worker versions deploy old-inference-service-staging@100% --name inference-service-staging --message abort --yes",
    ]


@pytest.mark.parametrize("api", [False], indirect=True)
def test_a_failed_smoke_test_after_the_promotion_puts_the_previous_versions_back(project, tmp_path, api):
    tool, log = fake_wrangler(tmp_path)
    rollout(project, tool, "canary", "--percent", "10")
    log.unlink()

    result = rollout(project, tool, "promote", "--smoke-url", api)

    assert result.returncode == 1
    assert [line.split(" --name")[0] for line in calls(log)] == [
        "inference_worker versions deploy new-1@100%", "inference_worker versions deploy new-2@100%", "project versions deploy new-3@100%",
        "project versions deploy old-inference-ui-api@100%", "inference_worker versions deploy old-inference-eu@100%",
        "inference_worker versions deploy old-inference-service@100%",
    ]


def test_a_step_failing_half_way_puts_back_the_workers_already_split_and_stops(project, tmp_path):
    tool, log = fake_wrangler(tmp_path, fail_on="upload -c .inference-eu")

    result = rollout(project, tool, "canary", "--percent", "10")

    assert result.returncode == 1
    assert [line.split(" --")[0] for line in calls(log)][-3:] == [
        "inference_worker deployments status", "inference_worker versions upload -c .inference-eu.wrangler.toml",
        "inference_worker versions deploy old-inference-service@100%",
    ]  # the api worker was never touched
    assert not any(line.startswith("project") for line in calls(log))


def test_a_rollout_under_way_is_refused_before_anything_is_uploaded(project, tmp_path):
    split = json.dumps({"versions": [{"version_id": "a", "percentage": 90}, {"version_id": "b", "percentage": 10}]})
    tool, log = fake_wrangler(tmp_path, split=split)

    result = rollout(project, tool, "canary", "--percent", "10")

    assert result.returncode == 1 and "promote or abort that rollout first" in result.stdout
    assert not any("upload" in line for line in calls(log))


@pytest.mark.parametrize("percent", [[], ["--percent", "0"], ["--percent", "100"], ["--percent", "-5"]])
def test_a_canary_needs_a_percentage_between_0_and_100(project, tmp_path, percent):
    tool, log = fake_wrangler(tmp_path)

    result = rollout(project, tool, "canary", *percent)

    assert result.returncode == 2 and "--percent" in result.stderr
    assert calls(log) == []


def test_the_npm_scripts_run_the_rollout():
    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]

    assert {name: scripts[name] for name in ("deploy:canary", "deploy:promote", "deploy:abort")} == {
        "deploy:canary": "python3 scripts/rollout.py canary",
        "deploy:promote": "python3 scripts/rollout.py promote",
        "deploy:abort": "python3 scripts/rollout.py abort",
    }
