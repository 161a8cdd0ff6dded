"""The deploy's smoke test (scripts/smoke.py) passes against a healthy deployment: here the local
host, with its admin token for the deep check of every backend."""

import os
import subprocess
import sys

from scripts.localhost import PROJECT_ROOT


def test_the_smoke_test_passes_on_a_healthy_deployment(base_url, admin_token):
    environment = {**os.environ, "ADMIN_TOKEN": admin_token, "SMOKE_TEST_URL": base_url}

    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "smoke.py"), "--attempts", "1"],
                            capture_output=True, text=True, timeout=120, env=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "the deep health check of every backend: ok" in result.stdout
