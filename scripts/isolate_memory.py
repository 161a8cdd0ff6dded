"""Each Python worker's isolate memory on a local workerd host started with --memory and
--inspector-port (LocalHost(memory=True)), against Cloudflare's 128 MB an isolate (the JS heap and
WebAssembly allocations together); docs/benchmarks.md (Memory) says what counts and why. Read from
the host only, never through a product route:
- WebAssembly linear memory (Pyodide's whole heap): /__devhost/memory, which asks each worker's
  injected MemoryProbe (local/workerd/memory.py);
- the JS heap and the ArrayBuffers' backing stores outside it: workerd's DevTools endpoint, one
  target per isolate (`core:user:<worker>`), Runtime.getHeapUsage, before and after a full garbage
  collection (HeapProfiler.collectGarbage, which workerd runs when the isolate next runs: the probe's
  call makes sure it does). What is live after it is what the isolate needs; what was used before
  it includes garbage V8 had not collected yet (it would, nearer a limit).
The WebAssembly memory never shrinks (it is its own peak); the JS heap goes up and down, so a peak
is the largest of samples taken while the load runs (`PeakSampler`)."""

import json
import threading
from dataclasses import dataclass, fields

import httpx
from websockets.sync.client import ClientConnection, connect

MIB = 1024 * 1024
ISOLATE_LIMIT_MIB = 128  # Cloudflare's, per isolate: "including the JavaScript heap and WebAssembly allocations"
SAMPLE_SECONDS = 0.5  # each sample runs a full collection in both isolates: not too often


@dataclass(frozen=True)
class IsolateMemory:
    wasm_bytes: int  # Pyodide's linear memory: the interpreter, every module and object, C extensions' allocations
    js_heap_bytes: int  # V8's heap live after a full collection (what the runtime, Pyodide's JS side and the bindings hold)
    js_external_bytes: int  # ArrayBuffers' backing stores, off V8's heap (bodies, streams' chunks, Pyodide's files)
    js_heap_used_bytes: int  # V8's heap as used before that collection: with garbage not collected yet
    malloc_bytes: int  # of the linear memory, what malloc has handed out now (Python's objects among them)

    @property
    def total_bytes(self) -> int:
        """What the isolate holds: WebAssembly memory, the live JS heap and the backing stores."""
        return self.wasm_bytes + self.js_heap_bytes + self.js_external_bytes

    def max(self, other: "IsolateMemory") -> "IsolateMemory":
        """Each part's larger value (a peak of each part; their sum bounds the peak of the total)."""
        return IsolateMemory(*(max(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))


class IsolateReader:
    """Reads the host's Python workers' isolates, one DevTools connection each, kept open."""

    def __init__(self, url: str, inspector_port: int) -> None:
        self.url = url
        self.inspector_port = inspector_port
        self._connections: dict[str, ClientConnection] = {}
        self._message_id = 0

    def _send(self, worker: str, method: str) -> int:
        if worker not in self._connections:
            self._connections[worker] = connect(f"ws://127.0.0.1:{self.inspector_port}/core:user:{worker}", max_size=None)
        self._message_id += 1
        self._connections[worker].send(json.dumps({"id": self._message_id, "method": method}))
        return self._message_id

    def _answer(self, worker: str, message_id: int) -> dict[str, int]:
        while (message := json.loads(self._connections[worker].recv(timeout=60))).get("id") != message_id:
            pass  # an event of the session
        return message.get("result", {})

    def _call(self, worker: str, method: str) -> dict[str, int]:
        return self._answer(worker, self._send(worker, method))

    def read(self) -> dict[str, IsolateMemory]:
        """worker name -> its isolate's memory now."""
        workers = self.workers()
        before = {worker: self._call(worker, "Runtime.getHeapUsage") for worker in workers}
        collections = {worker: self._send(worker, "HeapProfiler.collectGarbage") for worker in workers}
        wasm = self.workers()  # runs each isolate, so that its collection runs now
        memory = {}
        for worker, message_id in collections.items():
            self._answer(worker, message_id)
            after = self._call(worker, "Runtime.getHeapUsage")
            memory[worker] = IsolateMemory(wasm[worker]["wasm_bytes"], after["usedSize"], after.get("backingStorageSize", 0),
                                           before[worker]["usedSize"], wasm[worker]["malloc_bytes"])
        return memory

    def workers(self) -> dict[str, dict[str, int]]:
        """worker name -> its WebAssembly memory's bytes and malloc's, as its MemoryProbe reads them."""
        probed = httpx.get(f"{self.url}/__devhost/memory", timeout=60)
        probed.raise_for_status()
        return probed.json()["workers"]

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def __enter__(self) -> "IsolateReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PeakSampler:
    """While in a `with` block: samples every SAMPLE_SECONDS, in a thread; `peak` is each worker's
    largest reading of each part, `total_peak` the largest sum read at once."""

    def __init__(self, reader: IsolateReader) -> None:
        self.reader = reader
        self.peak: dict[str, IsolateMemory] = {}
        self.total_peak: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for worker, memory in self.reader.read().items():
            self.peak[worker] = self.peak[worker].max(memory) if worker in self.peak else memory
            self.total_peak[worker] = max(self.total_peak.get(worker, 0), memory.total_bytes)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the last moment counts too


def mib(count: int) -> str:
    return f"{count / MIB:.1f}"


def describe(worker: str, memory: IsolateMemory, total: int | None = None) -> str:
    """`api: 65.0 MiB (Wasm 43.2, malloc 25.6 of it + JS heap 8.7 live, 9.1 used + external 13.0), 51% of 128 MiB`."""
    total = memory.total_bytes if total is None else total
    return (f"{worker}: {mib(total)} MiB (Wasm {mib(memory.wasm_bytes)}, malloc {mib(memory.malloc_bytes)} of it + "
            f"JS heap {mib(memory.js_heap_bytes)} live, "
            f"{mib(memory.js_heap_used_bytes)} used + external {mib(memory.js_external_bytes)}), "
            f"{total / (ISOLATE_LIMIT_MIB * MIB):.0%} of {ISOLATE_LIMIT_MIB} MiB")


def table(stages: list[tuple[str, dict[str, IsolateMemory], dict[str, int] | None]]) -> list[str]:
    """A Markdown table: one row per (stage, worker): the parts and the total (Wasm + live JS heap + external)."""
    lines = ["| isolate memory (workerd, MiB) | worker | Wasm linear (malloc in use) | JS heap live (used) | JS external | total "
             "| of 128 MiB |", "|---|---|---|---|---|---|---|"]
    for stage, memory, totals in stages:
        for worker, reading in sorted(memory.items()):
            total = reading.total_bytes if totals is None else totals[worker]
            lines.append(f"| {stage} | {worker} | {mib(reading.wasm_bytes)} ({mib(reading.malloc_bytes)}) | {mib(reading.js_heap_bytes)} "
                         f"({mib(reading.js_heap_used_bytes)}) | {mib(reading.js_external_bytes)} | {mib(total)} | "
                         f"{total / (ISOLATE_LIMIT_MIB * MIB):.0%} |")
    return lines
