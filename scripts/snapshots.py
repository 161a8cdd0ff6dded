"""Python Workers started the way Cloudflare starts them: restored from a memory snapshot, each in a
workerd process of its own (workerd's snapshot settings hold for a whole process), on the local
host of `make dev` (local/workerd.mjs: miniflare, local/workerd/workerd.sh, the real workerd).

Modes of a start:
- "none": no snapshot; the runtime boots Pyodide, then runs the worker's top level (what `make dev`
  and `wrangler dev` do).
- "baseline": restored from a baseline snapshot (`--python-save-baseline-snapshot`): the runtime
  and the standard modules it imports, taken before the worker's files are mounted; the worker's
  top level still runs at start.
- "dedicated": restored from a dedicated snapshot saved as Cloudflare's deploy-time validator saves
  it: a process loads the baseline, runs the worker's top level once and saves its memory with the
  compatibility flag `python_dedicated_snapshot`; the loading process has the flag too (workerd
  refuses a snapshot whose type disagrees with the flag). The worker's top level does not run again.
  ("dedicated-alone": the same without the baseline underneath.)
A snapshot is saved by a throwaway process that serves nothing (after saving, the runtime has
already undone its start-up patches), then every start loads it. Each file's header names its type
("snapshotType"), checked after every save.

The api worker reaches the inference worker over its INFERENCE service binding. JS RPC does not
cross workerd processes by itself: the inference host serves its InferenceService entrypoint on
a socket that speaks Cap'n Proto (--rpc-socket), and the api host's binding is an external server
on that socket (--remote-service), over which JS RPC works as within one process. So each worker
is restored from its own snapshot and the pair is two processes, as on Cloudflare (two isolates).

From Python (the project root on sys.path):

    from scripts.snapshots import WORKERS, start, start_pair
    with tempfile.TemporaryDirectory() as snapshots:
        with start(WORKERS["floor"], "dedicated", Path(snapshots)) as floor:   # saves what it needs first
            print(floor.url, floor.spawn_to_answer)            # seconds from spawning workerd to a 200
        with start_pair("dedicated", Path(snapshots), variables={"ADMIN_TOKEN": "t"}) as (api, inference):
            httpx.get(f"{api.url}/health")
        # Both hosts Ready and no request sent yet: the first request (a route's first-use cost) is yours.
        with start_pair("dedicated", Path(snapshots), answer=False) as (api, inference): ...

    save(worker, kind, directory)  -> Snapshot   # kind: "baseline" (one for all) | "dedicated" | "dedicated-alone"
    snapshot_type(path)            -> "baseline" | "dedicated"

`make dev` starts both workers in one process from a baseline snapshot kept between starts
(dev_baseline(): saved once, then reused while its key holds: the workerd release, the Pyodide
bundle and the Python workers' compatibility date and flags; a baseline holds none of the
workers' code, so a code change keeps it, and one file suits both workers).

From a shell:

    .venv/bin/python scripts/snapshots.py save api --kind dedicated --dir /tmp/snaps
    .venv/bin/python scripts/snapshots.py start floor --mode dedicated --dir /tmp/snaps   # serves until Ctrl-C
    .venv/bin/python scripts/snapshots.py start pair --mode baseline
    .venv/bin/python scripts/snapshots.py dev-baseline    # make dev's: prints the host's snapshot options
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import bindings  # noqa: E402
from scripts.localhost import HOST_SCRIPT, NODE, PROJECT_ROOT, READY_LINE, free_port, scratch_state, stop  # noqa: E402

MODES = ("none", "baseline", "dedicated", "dedicated-alone")
DEDICATED_FLAG = "python_dedicated_snapshot"
SNAPSHOT_FILE = "snapshot.bin"  # the name workerd always saves to, in --python-snapshot-dir
START_TIMEOUT_SECONDS = 180
POLL_SECONDS = 0.02
HEADER_BYTES = 65536
DEV_SNAPSHOTS = PROJECT_ROOT / ".wrangler" / "snapshots"
WORKERD_PACKAGE = PROJECT_ROOT / "node_modules" / "workerd" / "package.json"
PYODIDE_BUNDLE = PROJECT_ROOT / ".devhost" / "pyodide-bundle" / "pyodide_dev.capnp.bin"
DEV_CONFIGS = [PROJECT_ROOT / "wrangler.toml", PROJECT_ROOT / "inference_worker" / "wrangler.toml"]
BACKENDS = PROJECT_ROOT / "backends.txt"


@dataclass(frozen=True)
class Worker:
    """One Python worker as scripts/snapshots.py runs it."""
    key: str  # how the CLI and the bench name it
    config: Path
    name: str  # its wrangler name
    probe: str  # the path that answers 200 once it is up (through the api for the inference worker)
    rpc_entrypoint: str | None = None  # the entrypoint another process calls over JS RPC
    service_binding: str | None = None  # its binding to a worker in another process


WORKERS = {
    # The floor: a bare Python worker (its /rpc peer is not run: nothing here calls /rpc).
    "floor": Worker("floor", PROJECT_ROOT / "bench" / "python" / "wrangler.toml", "bench-python-floor", "/bare",
                    service_binding="PEER"),
    "api": Worker("api", PROJECT_ROOT / "wrangler.toml", "inference-ui-api", "/health", service_binding="INFERENCE"),
    "inference": Worker("inference", PROJECT_ROOT / "inference_worker" / "wrangler.toml", "inference-service", "/health",
                        rpc_entrypoint="InferenceService"),
}


@dataclass(frozen=True)
class Snapshot:
    path: Path
    kind: str  # "baseline" | "dedicated"

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def snapshot_type(path: Path) -> str:
    """The type workerd wrote in the snapshot's JSON header ("baseline" or "dedicated")."""
    with path.open("rb") as file:
        header = file.read(HEADER_BYTES)
    marker = b'"snapshotType":"'
    at = header.find(marker)
    if at < 0:
        raise ValueError(f"{path}: no snapshotType in its header")
    start = at + len(marker)
    return header[start:header.index(b'"', start)].decode()


def _snapshot_file(directory: Path, worker: Worker, kind: str) -> Path:
    return directory / ("baseline.bin" if kind == "baseline" else f"{worker.key}-{kind}.bin")


_built: set[Path] = set()


def build(worker: Worker) -> None:
    """Runs the worker's [build] step (its copy of shared/, the playground), once a run, so that no
    timed start includes it."""
    if worker.config in _built:
        return
    subprocess.run([str(NODE), HOST_SCRIPT, "-c", str(worker.config), "--build-only"], cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    _built.add(worker.config)


class HostProcess:
    """One host (local/workerd.mjs, its options `options`), started on enter. Timings, from workerd's
    exec (`spawn_to_*`) and from this process's spawn of the host, Node and miniflare included
    (`start_to_*`): to "Ready" (`wait_until_ready`) and to a probe's first 200 (`wait_for_answer`).
    Without `migrate`, no D1 migrations (a host that reads no table)."""

    def __init__(self, label: str, options: list[str], *, state_dir: Path, gate: Path | None = None, migrate: bool = True):
        self.label = label
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.lines: list[str] = []
        self.spawn_to_ready: float | None = None
        self.start_to_ready: float | None = None
        self.spawn_to_answer: float | None = None
        self.start_to_answer: float | None = None
        self.first_answer: httpx.Response | None = None  # the probe's first 200
        self._stamp = state_dir / "workerd-spawned-at"
        self._environment = {"DEVHOST_WORKERD_SPAWN_STAMP": str(self._stamp),
                             **({"DEVHOST_WORKERD_START_GATE": str(gate)} if gate else {})}
        self._ready = threading.Event()
        self.args = [str(NODE), HOST_SCRIPT, "--port", str(self.port), "--persist-to", str(state_dir), *options,
                     *([] if migrate else ["--no-migrations"])]

    def __enter__(self) -> "HostProcess":
        self._started = time.time()
        self.process = subprocess.Popen(self.args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env={**os.environ, **self._environment})
        threading.Thread(target=self._read_output, daemon=True).start()
        return self

    def _read_output(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY_LINE):
                self._ready_at = time.time()
                self._ready.set()

    def log(self) -> str:
        return "\n".join(self.lines)

    def _check_alive(self, deadline: float, doing: str) -> None:
        if self.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{self.label}: {doing} failed:\n{self.log()}")

    @property
    def spawned_at(self) -> float:
        """The wall clock when workerd started."""
        return float(self._stamp.read_text())

    def wait_until_ready(self) -> float:
        """Until the host prints "Ready" (workerd listens: the workers' modules are evaluated);
        returns spawn_to_ready."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready.wait(0.05):
            self._check_alive(deadline, "start")
        self.spawn_to_ready = self._ready_at - self.spawned_at
        self.start_to_ready = self._ready_at - self._started
        return self.spawn_to_ready

    def wait_for_answer(self, url: str) -> float:
        """Polls `url` until it answers 200; returns spawn_to_answer."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        with httpx.Client(timeout=START_TIMEOUT_SECONDS) as client:
            while True:
                try:
                    if (response := client.get(url)).status_code == 200:
                        self.first_answer = response
                        break
                except httpx.TransportError:
                    pass
                self._check_alive(deadline, f"waiting for {url}")
                time.sleep(POLL_SECONDS)
        answered = time.time()
        self.spawn_to_answer = answered - self.spawned_at
        self.start_to_answer = answered - self._started
        return self.spawn_to_answer

    def __exit__(self, *exc) -> None:
        stop(self.process)


TWIN_SUFFIX = "-twin"


def twin_config(worker: Worker) -> Path:
    """`worker`'s config under the name `<name>-twin`, written next to it (its relative paths hold
    there; git-ignored): the same code a second time in one process, restored from the same
    snapshot. The twin's first request is a fresh isolate's in a process that already ran the
    worker, whose compiled WebAssembly (Pyodide's, pydantic-core's) V8 shares between a process's
    isolates: as on Cloudflare, where one process runs many isolates. The inference worker's twin
    is a secondary backend (scripts/bindings.py): its counters are the first one's."""
    name = worker.name + TWIN_SUFFIX
    if worker.rpc_entrypoint:
        return bindings.write_secondary(name, BACKENDS, worker.config)
    target = worker.config.with_name(f".{name}.wrangler.toml")
    target.write_text(re.sub(rf'^name = "{re.escape(worker.name)}"$', f'name = "{name}"', worker.config.read_text(),
                             count=1, flags=re.M))
    return target


class WorkerProcess(HostProcess):
    """A host running one Python worker: restored from `snapshot` (or none), or saving one
    (`save`: "baseline" or "dedicated"), with `dedicated` adding the flag; serving its RPC
    entrypoint on `rpc_port`, its service binding answered at `peer_address`. With `twin_port`,
    the worker's twin (twin_config) runs beside it, serving its RPC entrypoint (or, without one,
    HTTP: `twin_url`) on that port, its service binding answered at `twin_peer_address`."""

    def __init__(self, worker: Worker, *, state_dir: Path, snapshot: Snapshot | None = None, save: str | None = None,
                 dedicated: bool = False, rpc_port: int | None = None, peer_address: str | None = None,
                 variables: dict[str, str] | None = None, snapshot_dir: Path | None = None, gate: Path | None = None,
                 migrate: bool = True, twin_port: int | None = None, twin_peer_address: str | None = None):
        self.worker = worker
        options = ["-c", str(worker.config), "--no-build"]
        self.twin_url = None
        if twin_port:
            twin = worker.name + TWIN_SUFFIX
            options += ["-c", str(twin_config(worker)), "--rpc-socket", f"{twin}:{worker.rpc_entrypoint or 'default'}@{twin_port}"]
            if worker.service_binding and twin_peer_address:
                options += ["--remote-service", f"{twin}/{worker.service_binding}={twin_peer_address}"]
            self.twin_url = None if worker.rpc_entrypoint else f"http://127.0.0.1:{twin_port}"
        for name, value in (variables or {}).items():
            options += ["--var", f"{name}:{value}"]
        if dedicated:
            options += ["--compat-flag", DEDICATED_FLAG]
        directory = snapshot.path.parent if snapshot else snapshot_dir
        if directory:
            options += ["--python-snapshot-dir", str(directory)]
        if snapshot:
            options += ["--python-load-snapshot", snapshot.path.name]
        if save:
            options += ["--python-save-baseline-snapshot" if save == "baseline" else "--python-save-snapshot"]
        if rpc_port and worker.rpc_entrypoint:
            options += ["--rpc-socket", f"{worker.name}:{worker.rpc_entrypoint}@{rpc_port}"]
        if worker.service_binding:
            # Unanswered (port 1) when no peer is given: the floor's /rpc, the api alone before its peer is up.
            options += ["--remote-service", f"{worker.service_binding}={peer_address or '127.0.0.1:1'}"]
        super().__init__(worker.key, options, state_dir=state_dir, gate=gate, migrate=migrate)

    def __enter__(self) -> "WorkerProcess":
        build(self.worker)
        super().__enter__()
        return self

    def wait_for_answer(self, url: str | None = None) -> float:
        """Polls `url` (by default the worker's probe) until it answers 200; returns spawn_to_answer."""
        return super().wait_for_answer(url or f"{self.url}{self.worker.probe}")


def dev_host(state_dir: Path, snapshot: Path | None = None, variables: dict[str, str] | None = None,
             rebuild: bool = True) -> HostProcess:
    """The host `make dev` runs (both workers in one process, its [build] step and D1 migrations
    included), restored from the baseline `snapshot` if given. Without `rebuild`, the [build]
    step runs only if this run has not run it yet (build())."""
    options = [item for name, value in (variables or {}).items() for item in ("--var", f"{name}:{value}")]
    if not rebuild:
        for worker in (WORKERS["api"], WORKERS["inference"]):
            build(worker)
        options.append("--no-build")
    if snapshot:
        options += ["--python-snapshot-dir", str(snapshot.parent), "--python-load-snapshot", snapshot.name]
    return HostProcess("make dev's host", options, state_dir=state_dir)


def save(worker: Worker, kind: str, directory: Path) -> Snapshot:
    """Saves `worker`'s snapshot of `kind` into `directory` with a throwaway process, and checks
    the type workerd wrote. "dedicated" stacks on the baseline (saved first if missing), as
    Cloudflare's validator does. The baseline is one file for every worker (baseline.bin), saved
    by the bare worker: it is taken before the worker's files are mounted, so it holds none of
    them; and the process saving it then runs the worker's top level without workerd's import
    patches, where importing pydantic_core draws entropy and aborts the save."""
    directory.mkdir(parents=True, exist_ok=True)
    base = None
    if kind == "baseline":
        worker = WORKERS["floor"]
    elif kind == "dedicated":
        base = snapshot_for(worker, "baseline", directory)
    elif kind != "dedicated-alone":
        raise ValueError(f"unknown snapshot kind {kind!r}")
    # A folder of its own (workerd always writes snapshot.bin, and loads from the same folder), so
    # that saves run side by side.
    with tempfile.TemporaryDirectory(dir=directory, prefix=".saving-") as saving, tempfile.TemporaryDirectory() as state:
        if base:
            os.link(base.path, Path(saving) / base.path.name)
            base = Snapshot(Path(saving) / base.path.name, base.kind)
        written = Path(saving) / SNAPSHOT_FILE
        with WorkerProcess(worker, state_dir=Path(state), snapshot=base, snapshot_dir=Path(saving),
                           save="baseline" if kind == "baseline" else "dedicated", dedicated=kind != "baseline") as saver:
            # workerd evaluates every worker's modules (the Python top level included) before it
            # listens, and saves the snapshot at the end of that: once Ready, the file is whole.
            saver.wait_until_ready()
            if not written.exists():
                raise RuntimeError(f"{worker.key}: no {written} after start:\n{saver.log()}")
        expected = "baseline" if kind == "baseline" else "dedicated"
        if (found := snapshot_type(written)) != expected:
            raise RuntimeError(f"{worker.key}: saved a {found} snapshot, expected {expected}")
        target = _snapshot_file(directory, worker, kind)
        written.replace(target)
    return Snapshot(target, expected)


def snapshot_for(worker: Worker, mode: str, directory: Path | None) -> Snapshot | None:
    """The snapshot a start in `mode` loads, saved into `directory` first if it is not there."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    if mode == "none":
        return None
    if directory is None:
        raise ValueError(f"mode {mode!r} needs a snapshot directory")
    path = _snapshot_file(directory, worker, mode)
    if path.exists():
        return Snapshot(path, snapshot_type(path))
    return save(worker, mode, directory)


@contextmanager
def start(worker: Worker, mode: str = "none", directory: Path | None = None, *, peer_address: str | None = None,
          rpc_port: int | None = None, variables: dict[str, str] | None = None, wait: bool = True,
          gate: Path | None = None, state_dir: Path | None = None, migrate: bool = True, twin_port: int | None = None,
          twin_peer_address: str | None = None) -> Iterator[WorkerProcess]:
    """`worker` in a host of its own, restored as `mode` says (its snapshot saved into `directory`
    first if missing), with `state_dir` as its local state (a temporary folder if None; D1
    migrations applied before it is Ready, unless not `migrate`: the inference worker's /health
    needs none). `twin_port`, `twin_peer_address`: the worker's twin beside it (WorkerProcess).
    With `wait` (the default), yields once its probe answered
    (`spawn_to_answer` set); the inference worker's probe is an api's, so start it with wait=False
    and time it through the api (start_pair does)."""
    snapshot = snapshot_for(worker, mode, directory)
    with ExitStack() as stack:
        state = state_dir or Path(stack.enter_context(scratch_state()))
        process = stack.enter_context(WorkerProcess(
            worker, state_dir=state, snapshot=snapshot, dedicated=mode.startswith("dedicated"), rpc_port=rpc_port,
            peer_address=peer_address, variables=variables, gate=gate, migrate=migrate, twin_port=twin_port,
            twin_peer_address=twin_peer_address))
        if wait:
            process.wait_for_answer()
        yield process


@contextmanager
def start_pair(mode: str = "none", directory: Path | None = None, *, variables: dict[str, str] | None = None,
               api_mode: str | None = None, state_dir: Path | None = None, migrate: bool = True,
               answer: bool = True, twins: bool = False) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    """The api and the inference worker, each in its own process restored as `mode` says (the
    api as `api_mode` if given), their workerd started at the same moment (each host's Node side
    first gets ready, then both wait at a gate); yields (api, inference) once the api's /health
    answers 200, which needs the inference worker's RPC health: the api's `spawn_to_answer` is
    the pair's cold start (the inference's is the same moment, from its own spawn). `state_dir`
    and `migrate` are the inference worker's (see start). Without `answer`, yields once both
    hosts are Ready, before any request: the first request is then the caller's. With `twins`,
    each process also runs its worker's twin (twin_config), the api's twin calling the inference
    worker's: the api's `twin_url` is a fresh pair of isolates in processes the pair's own
    requests warm."""
    inference_worker, api_worker = WORKERS["inference"], WORKERS["api"]
    # Built and saved before either clock starts (the shared baseline first, then both side by side).
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(build, [inference_worker, api_worker]))
    if "dedicated" in (mode, api_mode):
        snapshot_for(inference_worker, "baseline", directory)
    with ThreadPoolExecutor(2) as pool:
        for saving in [pool.submit(snapshot_for, inference_worker, mode, directory),
                       pool.submit(snapshot_for, api_worker, api_mode or mode, directory)]:
            saving.result()
    rpc_port = free_port()
    twin_rpc_port, twin_http_port = (free_port(), free_port()) if twins else (None, None)
    with ExitStack() as stack:
        gate = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "start"
        inference = stack.enter_context(start(inference_worker, mode, directory, rpc_port=rpc_port, variables=variables,
                                              wait=False, gate=gate, state_dir=state_dir, migrate=migrate,
                                              twin_port=twin_rpc_port))
        api = stack.enter_context(start(api_worker, api_mode or mode, directory, peer_address=f"127.0.0.1:{rpc_port}",
                                        variables=variables, wait=False, gate=gate, twin_port=twin_http_port,
                                        twin_peer_address=f"127.0.0.1:{twin_rpc_port}" if twins else None))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while len(list(gate.parent.glob("start.arrived.*"))) < 2:
            for process in (inference, api):
                process._check_alive(deadline, "reaching workerd's start")
            time.sleep(POLL_SECONDS)
        gate.touch()
        if answer:
            api.wait_for_answer()
            inference.spawn_to_answer = api.spawn_to_answer + (api.spawned_at - inference.spawned_at)
        else:
            inference.wait_until_ready()
            api.wait_until_ready()
        yield api, inference


def baseline_key(workerd_package: Path, bundle: Path, configs: list[Path]) -> str:
    """What a baseline snapshot depends on, hashed: the workerd release (its npm package's
    version), the Pyodide bundle's bytes and each Python worker's compatibility date and flags
    (the host adds the same development flags to all). Not the workers' code: the baseline is
    taken before it is mounted."""
    digest = hashlib.sha256()
    digest.update(json.loads(workerd_package.read_text())["version"].encode())
    digest.update(hashlib.sha256(bundle.read_bytes()).digest())
    for config in configs:
        settings = tomllib.loads(config.read_text())
        digest.update(json.dumps([settings.get("compatibility_date"), sorted(settings.get("compatibility_flags", []))]).encode())
    return digest.hexdigest()[:16]


def dev_baseline(directory: Path = DEV_SNAPSHOTS) -> Path:
    """make dev's baseline snapshot, saved into `directory` if no file there has the current
    key (older ones are removed), else the one kept from an earlier start. The saver is the bare
    worker (see save), with the same compatibility date and flags as the project's workers
    (checked: they are part of the key)."""
    key = baseline_key(WORKERD_PACKAGE, PYODIDE_BUNDLE, DEV_CONFIGS)
    if key != baseline_key(WORKERD_PACKAGE, PYODIDE_BUNDLE, [WORKERS["floor"].config] * len(DEV_CONFIGS)):
        raise RuntimeError("the bare worker's compatibility date or flags differ from the workers': its baseline would not suit them")
    target = directory / f"baseline-{key}.bin"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("baseline-*.bin"):
        stale.unlink()
    print("==> Saving the runtime's baseline snapshot (once: later starts restore it)", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".saving-") as saving:
        save(WORKERS["floor"], "baseline", Path(saving)).path.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev-baseline", help="make dev's baseline snapshot (saved if missing): prints the host's options")
    saving = commands.add_parser("save", help="save a worker's snapshot and print its type and size")
    saving.add_argument("worker", choices=sorted(WORKERS))
    saving.add_argument("--kind", choices=["baseline", "dedicated", "dedicated-alone"], default="dedicated")
    saving.add_argument("--dir", type=Path, required=True)
    starting = commands.add_parser("start", help="start a worker (or the pair) and serve until Ctrl-C")
    starting.add_argument("worker", choices=[*sorted(WORKERS), "pair"])
    starting.add_argument("--mode", choices=MODES, default="dedicated")
    starting.add_argument("--dir", type=Path, help="where snapshots are kept (default: a temporary folder)")
    starting.add_argument("--var", action="append", default=[], help="KEY:VALUE, a worker variable")
    args = parser.parse_args()

    if args.command == "dev-baseline":
        path = dev_baseline()
        print(f"--python-snapshot-dir {path.parent} --python-load-snapshot {path.name}")
        return
    if args.command == "save":
        snapshot = save(WORKERS[args.worker], args.kind, args.dir)
        print(json.dumps({"path": str(snapshot.path), "type": snapshot.kind, "bytes": snapshot.size}))
        return
    variables = dict(item.split(":", 1) for item in args.var)
    with ExitStack() as stack:
        directory = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.worker == "pair":
            api, inference = stack.enter_context(start_pair(args.mode, directory, variables=variables))
            print(f"api on {api.url}: first answer {api.spawn_to_answer:.2f} s after spawn ({args.mode})", flush=True)
            processes = [api, inference]
        else:
            worker = stack.enter_context(start(WORKERS[args.worker], args.mode, directory, variables=variables,
                                               wait=args.worker != "inference"))
            if args.worker != "inference":
                print(f"{args.worker} on {worker.url}: first answer {worker.spawn_to_answer:.2f} s after spawn ({args.mode})",
                      flush=True)
            processes = [worker]
        try:
            while all(process.process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
