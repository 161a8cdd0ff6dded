"""The deploy workflow (.github/workflows/deploy.yml): it cannot run here, so it is checked
against GitHub's workflow schema (check-jsonschema's vendored copy) and for the order a safe
deploy needs: tests, then remote migrations, packages, and the inference workers before the api;
then the smoke test, and the rollback when (and only when) the smoke test failed."""

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"


def test_the_workflow_is_valid_for_github():
    result = subprocess.run([Path(sys.executable).parent / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
                            capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_deploys_only_after_the_tests_and_in_a_safe_order():
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    test, deploy = workflow["jobs"]["test"], workflow["jobs"]["deploy"]
    commands = [step.get("run", "") for step in deploy["steps"]]

    def first(fragment: str) -> int:
        return next(i for i, command in enumerate(commands) if fragment in command)

    assert "make test" in [step.get("run") for step in test["steps"]]
    assert deploy["needs"] == "test"
    assert deploy["env"]["CLOUDFLARE_API_TOKEN"] == "${{ secrets.CLOUDFLARE_API_TOKEN }}"
    # deploy:canary applies the remote D1 migrations itself, after the primary's upload (test_rollout.py).
    assert first("bindings.py --check") < first("sync:python") < first("deploy:canary") < first("deploy:promote")
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_each_step_is_smoke_tested_and_a_failure_aborts_the_rollout():
    deploy = YAML(typ="safe").load(WORKFLOW.read_text())["jobs"]["deploy"]
    steps = {step["run"].split("npm run ")[1].split()[0]: step for step in deploy["steps"] if "npm run deploy:" in step.get("run", "")}

    assert list(steps) == ["deploy:canary", "deploy:promote", "deploy:abort"]
    assert '--percent "$CANARY_PERCENT"' in steps["deploy:canary"]["run"] and 0 < int(deploy["env"]["CANARY_PERCENT"]) < 100
    for name in ("deploy:canary", "deploy:promote"):
        assert '--smoke-url "$API_URL"' in steps[name]["run"] and "--env production" in steps[name]["run"]
    assert steps["deploy:abort"]["if"] == "failure()" and "--env production" in steps["deploy:abort"]["run"]
    assert deploy["env"]["API_URL"] == "${{ vars.API_URL }}"


def test_the_scripts_it_runs_exist():
    import json

    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]

    for name in ("sync:python", "deploy:production", "deploy:canary", "deploy:promote", "deploy:abort", "rollback:production",
                 "smoke"):
        assert name in scripts, name


def test_a_rollout_is_smoke_tested_in_full_and_aborted_if_the_smoke_test_fails():
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    steps = workflow["jobs"]["deploy"]["steps"]
    index = {name: i for i, step in enumerate(steps) for name in ("deploy:promote", "smoke.py", "deploy:abort")
             if name in step.get("run", "")}
    smoke, abort = steps[index["smoke.py"]], steps[index["deploy:abort"]]

    assert index["deploy:promote"] < index["smoke.py"] < index["deploy:abort"] == len(steps) - 1
    assert smoke["env"] == {"SMOKE_TEST_URL": "${{ vars.API_URL }}", "ADMIN_TOKEN": "${{ secrets.ADMIN_TOKEN }}"}
    assert abort["if"] == "failure()"  # the rollout's state says what was split: abort undoes only that
