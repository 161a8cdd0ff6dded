"""What each worker would upload, from `wrangler deploy --dry-run` (no network needed): the
worker's code and its copy of shared/, its vendored packages, and nothing of the tests or the
local host."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import NODE, ROOT, WORKERS, bundle_files, wrangler_environment

WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


@dataclass
class DryRun:
    files: set[str]  # the bundle's, relative to its directory
    output: str  # what wrangler printed


def dry_run(project: Path, config: str, outdir: Path) -> DryRun:
    result = subprocess.run(
        [NODE, WRANGLER, "deploy", "--dry-run", "-c", config, "--outdir", outdir],
        cwd=project, env=wrangler_environment(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return DryRun(bundle_files(outdir), result.stdout)


@pytest.fixture(scope="module")
def project_dry_run(tmp_path_factory):
    """Each worker's dry run from the project itself, built once for the tests that read it."""
    runs: dict[str, DryRun] = {}

    def of(config: str) -> DryRun:
        if config not in runs:
            runs[config] = dry_run(ROOT, config, tmp_path_factory.mktemp("bundle"))
        return runs[config]
    return of


@pytest.mark.parametrize(("config", "own_module", "_wheels", "_name"), WORKERS)
def test_bundle_has_the_worker_and_shared_but_no_tests_or_local_host(project_dry_run, config, own_module, _wheels, _name):
    files = project_dry_run(config).files

    assert {"entry.py", own_module, "shared/__init__.py", "shared/contract.py", "shared/errors.py"} <= files
    own = [f for f in files if not f.startswith("python_modules/")]  # vendored packages ship their own files
    assert not [f for f in own if f.startswith(("tests/", "local/")) or "/test_" in f or f.endswith(".mjs")]


@pytest.mark.parametrize(("config", "_own_module", "_wheels", "name"), WORKERS)
def test_a_synced_bundle_carries_its_packages(dry_run_of_two_backends, config, _own_module, _wheels, name):
    project, result = dry_run_of_two_backends
    assert result.returncode == 0, result.stdout + result.stderr
    files = bundle_files(project / "dist" / name)

    for package in ("pydantic", "pydantic_core", "workers"):
        assert f"python_modules/{package}/__init__.py" in files
    assert ("python_modules/graphql/__init__.py" in files) == (config == "wrangler.toml")


def test_the_api_uploads_the_playground_as_static_assets(project_dry_run):
    output = project_dry_run("wrangler.toml").output

    built = {p.name for p in (ROOT / "build" / "playground").iterdir()}
    assert {"index.html", "app.js", "app.css", "graphiql.html", "graphiql-bundle", "_headers"} <= built
    assert "==> playground in build/playground/:" in output  # built, or found up to date, by the [build] command before the upload
