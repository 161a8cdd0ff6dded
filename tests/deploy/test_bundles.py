"""What each worker would upload, from `wrangler deploy --dry-run` (no network needed): the
worker's code and its copy of shared/, its vendored packages, and nothing of the tests or the
local host."""

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".devhost" / "bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"
WHEELS = ROOT / ".devhost" / "wheels"
WORKERS = [
    ("wrangler.toml", "api/app.py", "pyproject.toml"),
    ("inference_worker/wrangler.toml", "inference/health.py", "inference_worker__pyproject.toml"),
]


def dry_run(project: Path, config: str, outdir: Path) -> set[str]:
    env = {**os.environ, "PATH": f"{NODE.parent}{os.pathsep}{os.environ['PATH']}",
           "WRANGLER_SEND_METRICS": "false", "CI": "true"}
    result = subprocess.run(
        [NODE, WRANGLER, "deploy", "--dry-run", "-c", config, "--outdir", outdir],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("config", "own_module", "_wheels"), WORKERS)
def test_bundle_has_the_worker_and_shared_but_no_tests_or_local_host(tmp_path, config, own_module, _wheels):
    files = dry_run(ROOT, config, tmp_path)

    assert {"entry.py", own_module, "shared/__init__.py", "shared/contract.py", "shared/errors.py"} <= files
    own = [f for f in files if not f.startswith("python_modules/")]  # vendored packages ship their own files
    assert not [f for f in own if f.startswith(("tests/", "local/")) or "/test_" in f or f.endswith(".mjs")]


@pytest.fixture(scope="module")
def synced_project(tmp_path_factory) -> Path:
    """A copy of the project as `pywrangler sync` leaves it: each worker's pyproject.toml
    dependencies installed, for Pyodide, into python_modules/ next to its wrangler config (here
    from the same Pyodide wheels the local host loads)."""
    project = tmp_path_factory.mktemp("project")
    for name in ("api_worker", "inference_worker", "shared", "scripts", "migrations", "playground"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "shared", "python_modules"))
    for name in ("wrangler.toml", "pyproject.toml", "package.json"):
        shutil.copy(ROOT / name, project / name)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    for config, _, wheels in WORKERS:
        target = project / Path(config).parent / "python_modules"
        for wheel in (WHEELS / wheels).glob("*.whl"):
            zipfile.ZipFile(wheel).extractall(target)
    return project


@pytest.mark.parametrize(("config", "_own_module", "_wheels"), WORKERS)
def test_a_synced_bundle_carries_its_packages(tmp_path, synced_project, config, _own_module, _wheels):
    files = dry_run(synced_project, config, tmp_path)

    for package in ("pydantic", "pydantic_core", "workers"):
        assert f"python_modules/{package}/__init__.py" in files
    assert ("python_modules/graphql/__init__.py" in files) == (config == "wrangler.toml")


def test_the_api_uploads_the_playground_as_static_assets(tmp_path):
    result = subprocess.run(
        [NODE, WRANGLER, "deploy", "--dry-run", "-c", "wrangler.toml", "--outdir", tmp_path], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "PATH": f"{NODE.parent}{os.pathsep}{os.environ['PATH']}", "WRANGLER_SEND_METRICS": "false", "CI": "true"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    built = {p.name for p in (ROOT / "build" / "playground").iterdir()}
    assert {"index.html", "app.js", "app.css", "graphiql.html", "graphiql-bundle", "_headers"} <= built
    assert "playground built into build/playground/" in result.stdout  # by the [build] command, before the upload
