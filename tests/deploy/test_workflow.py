"""The deploy workflow (.github/workflows/deploy.yml): it cannot run here, so it is checked
against GitHub's workflow schema (check-jsonschema's vendored copy) and for the order a safe
deploy needs: tests, then remote migrations, packages, and the inference workers before the api."""

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
    # deploy:production applies the remote D1 migrations itself, after the primary's first deploy (test_deploy_order.py).
    assert first("bindings.py --check") < first("sync:python") < first("deploy:production")
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_scripts_it_runs_exist():
    import json

    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]

    for name in ("sync:python", "deploy:production", "rollback:production"):
        assert name in scripts, name
