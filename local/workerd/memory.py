"""The main module of a worker on the host started with --memory (`make load`, `make bench`): the
worker's own main module, re-exported whole (its entrypoints, Durable Object classes, handlers),
plus a `MemoryProbe` entrypoint the control worker calls to read the isolate's WebAssembly memory
(/__devhost/memory). The host writes the main module's name into WORKER_MAIN_MODULE; never part of
a deployed worker."""

import importlib
import json

from workers import WorkerEntrypoint

WORKER_MAIN_MODULE = "entry"
_worker = importlib.import_module(WORKER_MAIN_MODULE)
globals().update({name: value for name, value in vars(_worker).items() if not name.startswith("_")})


class MemoryProbe(WorkerEntrypoint):
    async def read(self) -> str:
        """The isolate's WebAssembly linear memory, as JSON: Pyodide's whole heap (the interpreter,
        every module and object, C extensions' allocations), which grows and never shrinks, so this
        is its peak so far."""
        import pyodide_js  # at request time: a JS handle held at the top level could not be snapshotted

        return json.dumps({"wasm_bytes": pyodide_js._module.HEAP8.length})
