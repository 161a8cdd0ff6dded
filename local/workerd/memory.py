"""The main module of a worker on the host started with --memory (`make load`, `make bench`): the
worker's own main module, re-exported whole (its entrypoints, Durable Object classes, handlers),
plus a `MemoryProbe` entrypoint the control worker calls to read the isolate's WebAssembly memory
(/__devhost/memory). The host writes the main module's name into WORKER_MAIN_MODULE; never part of
a deployed worker."""

import ctypes
import importlib
import json

from workers import WorkerEntrypoint

WORKER_MAIN_MODULE = "entry"
_worker = importlib.import_module(WORKER_MAIN_MODULE)
globals().update({name: value for name, value in vars(_worker).items() if not name.startswith("_")})


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _malloc_in_use() -> dict[str, int]:
    """What malloc holds of the linear memory (dlmalloc's mallinfo): `malloc_bytes`, handed out and
    not had back (Python's objects, which it allocates with malloc here, and C extensions'), and
    `malloc_arena_bytes`, all it took from the memory so far (the rest is the interpreter's and the
    extensions' static data and the stack)."""
    mallinfo = ctypes.CDLL(None).mallinfo
    mallinfo.restype = _MallInfo
    info = mallinfo()
    return {"malloc_bytes": info.uordblks, "malloc_arena_bytes": info.arena}


class MemoryProbe(WorkerEntrypoint):
    async def read(self) -> str:
        """The isolate's WebAssembly linear memory, as JSON: its size (Pyodide's whole heap: the
        interpreter, every module and object, C extensions' allocations), which grows and never
        shrinks, so this is its peak so far; and how much of it malloc has handed out now."""
        import pyodide_js  # at request time: a JS handle held at the top level could not be snapshotted

        return json.dumps({"wasm_bytes": pyodide_js._module.HEAP8.length, **_malloc_in_use()})
