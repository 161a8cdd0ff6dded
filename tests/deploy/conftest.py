"""The deploy tests' copies of the project, and the dry run that several of them read, built
once: each wrangler dry run takes seconds a worker."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".devhost" / "bin" / "node"
WHEELS = ROOT / ".devhost" / "wheels"
DEPLOY = [sys.executable, str(ROOT / "scripts" / "deploy.py")]
# (config, a module of the worker's own, its Pyodide wheels under .devhost/wheels, its name in a dry run's dist/)
WORKERS = [
    ("wrangler.toml", "api/app.py", "pyproject.toml", "inference-ui-api"),
    ("inference_worker/wrangler.toml", "inference/health.py", "inference_worker__pyproject.toml", "inference-service"),
]


def wrangler_environment() -> dict[str, str]:
    """Our Node first on PATH, no metrics, no prompts."""
    return {**os.environ, "PATH": f"{NODE.parent}{os.pathsep}{os.environ['PATH']}", "WRANGLER_SEND_METRICS": "false", "CI": "true"}


def bundle_files(outdir: Path) -> set[str]:
    return {p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file()}


def project_with_backends(tmp_path: Path, *names: str) -> Path:
    project = tmp_path / "project"
    for name in ("api_worker", "inference_worker", "shared", "scripts", "migrations", "playground"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "shared", "python_modules", ".wrangler"))
    for name in ("wrangler.toml", "pyproject.toml", "package.json"):
        shutil.copy(ROOT / name, project / name)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    (project / "backends.txt").write_text("\n".join(names) + "\n")
    subprocess.run([sys.executable, str(project / "scripts" / "bindings.py")], cwd=project, check=True, capture_output=True)
    return project


def vendor_packages(project: Path) -> None:
    """As `pywrangler sync` leaves the project: each worker's pyproject.toml dependencies
    installed, for Pyodide, into python_modules/ next to its wrangler config (here from the same
    Pyodide wheels the local host loads)."""
    for config, _, wheels, _ in WORKERS:
        target = project / Path(config).parent / "python_modules"
        for wheel in (WHEELS / wheels).glob("*.whl"):
            zipfile.ZipFile(wheel).extractall(target)


@pytest.fixture(scope="session")
def dry_run_of_two_backends(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """`scripts/deploy.py --dry-run` on a synced copy with two backends: the project, and what
    the run printed; every bundle is in the project's dist/, under its worker's name."""
    project = project_with_backends(tmp_path_factory.mktemp("two-backends"), "inference-service", "inference-service-2")
    vendor_packages(project)
    result = subprocess.run([*DEPLOY, "--root", str(project), "--dry-run", "--tool", "wrangler"],
                            capture_output=True, text=True, env=wrangler_environment(), timeout=300)
    return project, result
