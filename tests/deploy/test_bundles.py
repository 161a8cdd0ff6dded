"""What each worker would upload, from `wrangler deploy --dry-run` (no network needed): the
worker's code and its copy of shared/, and nothing of the tests or the local host."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".devhost" / "bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def dry_run(config: str, outdir: Path) -> set[str]:
    env = {**os.environ, "PATH": f"{NODE.parent}{os.pathsep}{os.environ['PATH']}",
           "WRANGLER_SEND_METRICS": "false", "CI": "true"}
    result = subprocess.run(
        [NODE, WRANGLER, "deploy", "--dry-run", "-c", config, "--outdir", outdir],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("config", "own_module"),
    [("wrangler.toml", "api/app.py"), ("inference_worker/wrangler.toml", "inference/health.py")],
)
def test_bundle_has_the_worker_and_shared_but_no_tests_or_devhost(tmp_path, config, own_module):
    files = dry_run(config, tmp_path)

    assert {"entry.py", own_module, "shared/__init__.py", "shared/contract.py", "shared/errors.py"} <= files
    assert not [f for f in files if f.startswith(("tests/", "devhost/")) or "/test_" in f or f.endswith(".mjs")]
