"""Starts a local host as a client would find it: a process on 127.0.0.1 and a free port, both
workers on the real workerd through miniflare (local/workerd.mjs). An instrumented host (the
end-to-end tests') can also make a binding's calls fail and keeps the Analytics Engine points
written, through its control routes (local/workerd/instrumented-plugin.mjs)."""

import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NODE = PROJECT_ROOT / ".devhost" / "bin" / "node"
START_TIMEOUT_SECONDS = 180
# workerd's local HTTP server now and then drops a kept-alive connection just as the next request
# goes out on it (2 in ~22,000 requests here; none in as many on fresh connections). A browser
# retries such a request; httpx does not: the tests' clients open a connection per request.
FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)
CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
# Enterprise limits far above any run of the scripts, so requests reach the code behind admission.
UNLIMITED_ENTERPRISE = {"TIER_ENTERPRISE_REQUESTS_PER_MINUTE": "1000000", "TIER_ENTERPRISE_TOKENS_PER_DAY": "1000000000",
                        "TIER_ENTERPRISE_EVENTS_PER_DAY": "1000000000"}
# What miniflare prints each time workerd dies under it (an isolate aborted: every request in
# flight there is lost) and it starts workerd again.
WORKERD_RESTARTED = "The Workers runtime crashed unexpectedly"
# What Pyodide prints when it dies, then the Python stack of the request that killed it, most
# recent call first.
PYODIDE_DIED = "Pyodide has suffered a fatal error"
PROJECT_FRAME = re.compile(r'File "[^"]*?/((?:api|inference|shared)/[^"]+)", line (\d+) in (\S+)')
HOST_SCRIPT = "local/workerd.mjs"
# What the host prints once its databases are migrated (miniflare's own "Ready on" comes first).
READY_LINE = "[workerd-host] Ready on http"
# Where a measuring script keeps a host's throwaway state: in memory when the machine has a tmpfs.
# The local runtime commits Durable Object and D1 storage on its one thread, fsync included, and
# every isolate of the process waits for it (a 1-token stream's end waited 6-13 ms on this VM's
# disk); on Cloudflare that storage runs elsewhere, so a benchmark that paid for the disk would
# time the machine, not the workers (docs/benchmarks.md).
def _roomy_tmpfs(path: str = "/dev/shm", room: int = 1 << 30) -> str | None:
    if not os.access(path, os.W_OK):
        return None
    stats = os.statvfs(path)
    return path if stats.f_bavail * stats.f_frsize >= room else None  # a container's default 64 MB is too small


SCRATCH_PARENT = _roomy_tmpfs()


def scratch_state(prefix: str = "host-state-") -> tempfile.TemporaryDirectory:
    """A throwaway state folder for a measured host (SCRATCH_PARENT)."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=SCRATCH_PARENT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalHost:
    def __init__(self, configs: list[Path], state_dir: Path, variables: dict[str, str] | None = None,
                 environment: dict[str, str] | None = None, instrumented: bool = False, profile: bool = False,
                 memory: bool = False, snapshot: Path | None = None):
        self.instrumented = instrumented  # faults and Analytics Engine points through the control routes
        self.profile = profile  # cProfile in each Python worker through /__devhost/profile
        # Each Python worker's isolate memory: /__devhost/memory and workerd's DevTools port (scripts/isolate_memory.py).
        self.inspector_port = free_port() if memory else None
        # A baseline snapshot to restore both workers from, as `make dev` does (scripts/snapshots.py dev_baseline).
        self.snapshot = snapshot
        self.configs = configs
        self.state_dir = state_dir
        self.variables = variables or {}  # worker vars (--var)
        self.environment = environment or {}  # the host's own settings (DEVHOST_AI_*, DEVHOST_VECTORIZE_*)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._ready = threading.Event()

    def __enter__(self) -> "LocalHost":
        return self.start().wait_ready()

    def start(self) -> "LocalHost":
        """Starts the host's process and returns at once (wait_ready() waits for it to serve)."""
        args = [str(NODE), HOST_SCRIPT, "--port", str(self.port), "--persist-to", str(self.state_dir)]
        args += ["--instrumented"] * self.instrumented + ["--profile"] * self.profile
        if self.inspector_port is not None:
            args += ["--memory", "--inspector-port", str(self.inspector_port)]
        if self.snapshot:
            args += ["--python-snapshot-dir", str(self.snapshot.parent), "--python-load-snapshot", self.snapshot.name]
        for config in self.configs:
            args += ["-c", str(config)]
        for name, value in self.variables.items():
            args += ["--var", f"{name}:{value}"]
        self.process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env={**os.environ, **self.environment})
        threading.Thread(target=self._read_output, daemon=True).start()
        return self

    def wait_ready(self) -> "LocalHost":
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("local host did not start:\n" + "\n".join(self.lines))
        # workerd loads a worker's Python on its first call: pay that here, once, so that no test's
        # deadline (INFERENCE_TIMEOUT_MS is 3 s on the test host) includes a cold start.
        httpx.get(f"{self.url}/health", timeout=START_TIMEOUT_SECONDS)
        return self

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY_LINE):
                self._ready.set()

    def log(self) -> str:
        return "\n".join(self.lines)

    def runtime_restarts(self) -> int:
        """How often the runtime under the workers died since the host started: workerd restarted
        by miniflare, or the host's process gone."""
        return sum(WORKERD_RESTARTED in line for line in self.lines) + (self.process.poll() is not None)

    def crash_sites(self) -> list[str]:
        """For each time Pyodide died, the project's innermost frame in the stack it printed (where
        the request that killed it was), or "unknown" if that stack shows none."""
        sites: list[str] = []
        for line in self.lines:
            if PYODIDE_DIED in line:
                sites.append("unknown")
            elif sites and sites[-1] == "unknown" and (frame := PROJECT_FRAME.search(line)):
                sites[-1] = "{}:{} in {}".format(*frame.groups())
        return sites

    def __exit__(self, *exc) -> None:
        stop(self.process)


def stop(process: subprocess.Popen) -> None:
    """Ends a host's process: asked first, killed if it has not ended 10 s later."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def script_target(admin_token: str, variables: dict[str, str], memory: bool = False) -> Iterator[tuple[str, str, "LocalHost | None"]]:
    """(url, admin token, host) for scripts/fuzz.py and load.py: the server named by
    E2E_BASE_URL (with E2E_ADMIN_TOKEN), or a workerd host started for the run (`memory`: its
    isolates' memory readable, LocalHost)."""
    if base_url := os.environ.get("E2E_BASE_URL"):
        yield base_url.rstrip("/"), os.environ["E2E_ADMIN_TOKEN"], None
        return
    with scratch_state() as state, \
            LocalHost(CONFIGS, Path(state), variables={"ADMIN_TOKEN": admin_token, **variables}, memory=memory) as host:
        yield host.url, admin_token, host
