"""Starts a local host as a client would find it: a process on 127.0.0.1 and a free port.

Two runtimes serve the same workers: "workerd", the real runtime through miniflare
(devhost/workerd.mjs), and "devhost", Pyodide in Node (devhost/host.mjs), which alone can inject
binding faults."""

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE = PROJECT_ROOT / ".devhost" / "bin" / "node"
START_TIMEOUT_SECONDS = 180
RUNTIMES = ("workerd", "devhost")
SCRIPTS = {
    "workerd": ["devhost/workerd.mjs"],
    "devhost": ["--experimental-wasm-jspi", "devhost/host.mjs"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalHost:
    def __init__(self, configs: list[Path], state_dir: Path, variables: dict[str, str] | None = None,
                 environment: dict[str, str] | None = None, runtime: str = "workerd"):
        self.runtime = runtime
        self.configs = configs
        self.state_dir = state_dir
        self.variables = variables or {}  # worker vars (--var)
        self.environment = environment or {}  # the host's own settings (DEVHOST_*)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._ready = threading.Event()

    def __enter__(self) -> "LocalHost":
        args = [str(NODE), *SCRIPTS[self.runtime], "--port", str(self.port), "--persist-to", str(self.state_dir)]
        for config in self.configs:
            args += ["-c", str(config)]
        for name, value in self.variables.items():
            args += ["--var", f"{name}:{value}"]
        self.process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env={**os.environ, **self.environment})
        threading.Thread(target=self._read_output, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"local host ({self.runtime}) did not start:\n" + "\n".join(self.lines))
        return self

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Ready on http" in line:
                self._ready.set()

    def log(self) -> str:
        return "\n".join(self.lines)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
