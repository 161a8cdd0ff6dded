"""`npm run deploy:all` (scripts/deploy.py): every inference backend before the api worker, each
under its own name, stopping at the first failure; and its offline form, a dry run that builds
every bundle."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, NODE, ROOT, project_with_backends, wrangler_environment


def fake_tool(tmp_path: Path, fail_on: str) -> tuple[Path, Path]:
    """A stand-in for pywrangler that logs each call and fails the one whose arguments hold `fail_on`."""
    log = tmp_path / "calls.log"
    tool = tmp_path / "fake-wrangler"
    tool.write_text(f'#!/bin/sh\necho "$(basename "$PWD") $*" >> {log}\ncase "$*" in *"{fail_on}"*) exit 3;; esac\n')
    tool.chmod(0o755)
    return tool, log


def test_every_backend_is_deployed_before_the_api_and_a_failure_stops_the_rest(tmp_path):
    project = project_with_backends(tmp_path, "inference-service", "inference-eu", "inference-big")
    tool, log = fake_tool(tmp_path, fail_on="inference-eu")

    result = subprocess.run([*DEPLOY, "--root", str(project), "--tool", str(tool), "--env", "staging", "--", "--var", "A:b"],
                            capture_output=True, text=True)

    assert result.returncode == 1
    assert "inference worker inference-eu-staging failed: stopped" in result.stdout
    assert log.read_text().splitlines() == [
        "inference_worker deploy --env staging --var A:b",
        "inference_worker d1 migrations apply DB --remote --env staging",  # the primary's deploy made the database
        "inference_worker deploy -c .inference-eu.wrangler.toml --env staging --var A:b",
    ]  # neither the third backend nor the api worker
    secondary = tomllib.loads((project / "inference_worker" / ".inference-eu.wrangler.toml").read_text())
    # One consumer a queue, one owner a class: the secondary counts keys in the primary's objects.
    assert secondary["name"] == "inference-eu" and "consumers" not in secondary["queues"] and "migrations" not in secondary
    assert secondary["durable_objects"]["bindings"] == [{"name": "KEY_COUNTER", "class_name": "KeyCounter", "script_name": "inference-service"}]
    assert "triggers" not in secondary
    staging = secondary["env"]["staging"]
    assert staging["name"] == "inference-eu-staging" and "consumers" not in staging["queues"]
    assert staging["durable_objects"]["bindings"][0]["script_name"] == "inference-service-staging"


def test_a_list_the_config_does_not_bind_yet_is_refused_before_any_deploy(tmp_path):
    project = project_with_backends(tmp_path, "inference-service")
    (project / "backends.txt").write_text("inference-service\ninference-eu\n")
    tool, log = fake_tool(tmp_path, fail_on="nothing")

    result = subprocess.run([*DEPLOY, "--root", str(project), "--tool", str(tool)], capture_output=True, text=True)

    assert result.returncode == 1 and "run `make bindings`" in result.stdout
    assert not log.exists()


def test_the_dry_run_builds_every_backend_and_the_api_with_their_names(dry_run_of_two_backends):
    project, result = dry_run_of_two_backends

    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("inference-service", "inference-service-2", "inference-ui-api"):
        assert (project / "dist" / name / "entry.py").exists(), name
    # The api's bundle is bound to both (wrangler prints the bindings it would deploy with).
    assert "env.INFERENCE_2 (inference-service-2#InferenceService)" in result.stdout, result.stdout


def test_a_rollback_takes_the_api_back_first_then_every_backend(tmp_path):
    project = project_with_backends(tmp_path, "inference-service", "inference-eu")
    tool, log = fake_tool(tmp_path, fail_on="nothing")

    result = subprocess.run([*DEPLOY, "--root", str(project), "--tool", str(tool), "--rollback"], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout
    assert [line.split(" --message")[0] for line in log.read_text().splitlines()] == [
        "project rollback --name inference-ui-api",
        "inference_worker rollback --name inference-service",
        "inference_worker rollback --name inference-eu",
    ]


def test_a_fresh_clone_builds_production_offline_with_the_production_names(tmp_path):
    """`npm run deploy:production -- --dry-run`: every bundle built, nothing uploaded, no network."""
    project = project_with_backends(tmp_path, "inference-service", "inference-service-2")
    env = wrangler_environment()

    for environment, api, inference in (("production", "inference-ui-api", "inference-service"),
                                        ("staging", "inference-ui-api-staging", "inference-service-staging")):
        result = subprocess.run(["npm", "run", "--silent", f"deploy:{environment}", "--", "--dry-run"], cwd=project,
                                capture_output=True, text=True, env=env, timeout=300)

        assert result.returncode == 0, result.stdout + result.stderr
        for name in (inference, f"inference-service-2{'' if environment == 'production' else '-staging'}", api):
            assert (project / "dist" / name / "entry.py").exists(), name
        assert f"env.INFERENCE ({inference}#InferenceService)" in result.stdout
        assert f'env.ENVIRONMENT ("{environment}")' in result.stdout
        assert "WARNING" not in result.stdout + result.stderr  # every var in every environment


def test_setup_installs_the_pywrangler_that_a_real_deploy_runs():
    sys.path.insert(0, str(ROOT / "scripts"))
    from deploy import tool_command

    [pywrangler] = tool_command("pywrangler", ROOT)

    assert Path(pywrangler).name == "pywrangler"
    version = subprocess.run([pywrangler, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip(), version.stderr


def test_setup_installs_uv_where_pywrangler_finds_it():
    # pywrangler runs `uv` from PATH: setup puts both in .venv/bin (pyproject.toml's dev group).
    assert (ROOT / ".venv" / "bin" / "uv").exists() and (ROOT / ".venv" / "bin" / "pywrangler").exists()


def tool_that_finds(tmp_path: Path, *names: str) -> tuple[Path, Path]:
    """A stand-in for pywrangler that logs where each of `names` is found on its PATH."""
    log = tmp_path / "found.log"
    tool = tmp_path / "fake-pywrangler"
    tool.write_text("#!/bin/sh\n" + "".join(f'echo "{name} $(command -v {name} || echo missing)" >> {log}\n' for name in names))
    tool.chmod(0o755)
    return tool, log


BARE_PATH = os.pathsep.join(["/usr/bin", "/bin"])


def test_deploy_runs_pywrangler_with_the_venv_s_uv_on_its_path(tmp_path):
    project = project_with_backends(tmp_path, "inference-service")
    (project / ".venv").symlink_to(ROOT / ".venv")
    tool, log = tool_that_finds(tmp_path, "uv")

    result = subprocess.run([*DEPLOY, "--root", str(project), "--tool", str(tool)], capture_output=True, text=True,
                            env={**os.environ, "PATH": BARE_PATH})

    assert result.returncode == 0, result.stdout + result.stderr
    assert set(log.read_text().splitlines()) == {f"uv {project / '.venv' / 'bin' / 'uv'}"}


def test_npm_run_sync_python_finds_pywrangler_and_uv_in_the_venv(tmp_path):
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("no npm on PATH")
    project = tmp_path / "project"
    (project / "inference_worker").mkdir(parents=True)
    shutil.copy(ROOT / "package.json", project / "package.json")
    tool, log = tool_that_finds(tmp_path, "uv")
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "pywrangler").symlink_to(tool)
    (project / ".venv" / "bin" / "uv").symlink_to(ROOT / ".venv" / "bin" / "uv")
    node_dir = str(Path(os.path.realpath(NODE)).parent)

    result = subprocess.run([npm, "run", "--silent", "sync:python"], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "PATH": os.pathsep.join([node_dir, str(Path(npm).parent), BARE_PATH])})

    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().splitlines() == [f"uv {project / '.venv' / 'bin' / 'uv'}"] * 2  # the api worker's, then the inference worker's
