"""`make dev` restarts the host when the workers' code changes, and not when the host's own start
writes each worker's copy of shared/ (which a fresh clone does not have yet)."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".devhost" / "bin" / "node"
# What a host's start does in the watched folders: its [build] step copies shared/ into each worker.
FAKE_HOST = """
import fs from 'node:fs';
fs.appendFileSync('starts.log', 'start\\n');
for (const worker of ['api_worker', 'inference_worker']) {
  const copy = `${worker}/shared/models.py`;
  const source = fs.readFileSync('shared/models.py');
  if (!fs.existsSync(copy) || !fs.readFileSync(copy).equals(source)) {
    fs.mkdirSync(`${worker}/shared/__pycache__`, { recursive: true });
    fs.writeFileSync(copy, source);
  }
}
fs.appendFileSync('starts.log', 'ready\\n');
setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));
"""


def watcher_command() -> list[str]:
    """`make dev`'s node arguments before the host script (the Makefile's WATCH)."""
    words = re.search(r"^WATCH := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    return [str(ROOT / word) if word.endswith(".mjs") else word for word in words]


def wait_for(predicate, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def fresh_clone(tmp_path):
    for folder in ("api_worker/api", "inference_worker/inference", "shared", "local", "playground"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "shared" / "models.py").write_text("MODELS = 1\n")
    (tmp_path / "host.mjs").write_text(FAKE_HOST)
    return tmp_path


class WatcherLog:
    """What the watcher (WATCH_VERBOSE=1) and the host printed: each change the watcher saw, in
    the order it saw them, ignored or not, and each restart."""

    COPIES = ("api_worker/shared/models.py", "inference_worker/shared/models.py")

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()

    def since_last_restart(self) -> list[str]:
        lines = self.lines()
        restarts = [number for number, line in enumerate(lines) if line.endswith("changed: restarting")]
        return lines[restarts[-1] + 1:] if restarts else lines

    def copies_seen(self) -> bool:
        """Whether the watcher has seen, since the last restart, the host's start write each
        worker's copy of shared/: every change before those it has decided on."""
        seen = self.since_last_restart()
        return all(any(line.startswith(f"[watch] seen {copy}") for line in seen) for copy in self.COPIES)

    def changes_acted_on(self) -> list[str]:
        return [line for line in self.since_last_restart() if line.startswith("[watch] seen") and not line.endswith(": ignored")]

    def restarts(self) -> int:
        return sum(line.endswith("changed: restarting") for line in self.lines())


@pytest.mark.skipif(not NODE.exists(), reason="needs make setup's Node")
def test_the_host_starts_once_on_a_fresh_clone_and_again_for_each_change(fresh_clone):
    log = fresh_clone / "starts.log"
    starts = lambda: log.read_text().count("ready") if log.exists() else 0  # noqa: E731
    output = WatcherLog(fresh_clone / "watch.log")
    with output.path.open("w") as sink:
        watcher = subprocess.Popen([str(NODE), *watcher_command(), "host.mjs"], cwd=fresh_clone,
                                   env={**os.environ, "WATCH_VERBOSE": "1"}, stdout=sink, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: starts() == 1 and output.copies_seen()), output.lines()
        assert output.changes_acted_on() == [] and output.restarts() == 0, "the host restarted on its own copies of shared/"
        assert starts() == 1

        (fresh_clone / "shared" / "models.py").write_text("MODELS = 2\n")
        assert wait_for(lambda: starts() >= 2), "an edit of shared/ did not restart the host"
        assert wait_for(output.copies_seen), output.lines()
        assert output.changes_acted_on() == [] and output.restarts() == 1, "the edit restarted the host more than once"
        assert starts() == 2
        assert (fresh_clone / "api_worker" / "shared" / "models.py").read_text() == "MODELS = 2\n"
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=10)
