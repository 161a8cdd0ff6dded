"""Runs a worker's top level (its main module and everything that imports) on CPython under the
rules a memory snapshot imposes, and reports each break: `python -m tests.top_level ENTRY.py`
prints one JSON object (the breaks, the error the top level ended with, the project's models
whose validator is left to build, the project's modules imported) and exits 1 on a break.

Cloudflare runs a Python Worker's top level once, at deploy, and restores every isolate from a
snapshot of its memory (docs/architecture.md, "Top level and snapshot"). What the top level
computed is then shared by every isolate, so it must not
- draw entropy (os.urandom, uuid.uuid4, secrets and SystemRandom, which reach it; the `random`
  module's shared generator; an unseeded random.Random()): every isolate would repeat the same
  "random" values; workerd raises;
- read the clock (time.time, monotonic, perf_counter, datetime.now/today): outside a request the
  runtime's clock reads 0, a value silently frozen into the snapshot;
- make network I/O (a socket), or call the runtime's JavaScript (the `js`, `pyodide.ffi` and
  `workers` stand-ins of tests/inprocess/sdk.py): a JS object made by a call cannot be kept in a
  snapshot (workerd: "Can't serialize top-level variable"), and bindings and fetch are refused
  outside a request.
A profile hook sees every call, however the function was imported; the call it refuses raises,
as the runtime's would, and is recorded with where it was made even when the code catches it."""

import datetime
import importlib.util
import json
import os
import random
import socket
import sys
import sysconfig
import time
import traceback
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = {"api", "inference", "shared"}
STDLIB = sysconfig.get_paths()["stdlib"]
STAND_INS = {str(ROOT / "tests" / "inprocess" / name) for name in ("sdk.py", "streams.py")}

CLOCKS = {time.time, time.time_ns, time.monotonic, time.monotonic_ns, time.perf_counter, time.perf_counter_ns}
CLOCK_METHODS = {"now", "utcnow", "today"}  # of datetime.datetime and datetime.date
SOCKET_CALLS = {socket.getaddrinfo, socket.gethostbyname}
SOCKET_METHODS = {"connect", "connect_ex", "sendto"}


class TopLevelBreak(RuntimeError):
    """What a refused call raises at top level."""


def _refused_builtin(function: Any) -> str | None:
    """Why calling this C function at top level breaks the snapshot, or None."""
    owner = getattr(function, "__self__", None)
    if function is os.urandom:
        return "entropy: os.urandom"
    if function in CLOCKS:
        return f"clock: time.{function.__name__}"
    if isinstance(owner, type) and issubclass(owner, datetime.date) and function.__name__ in CLOCK_METHODS:
        return f"clock: {owner.__name__}.{function.__name__}"
    if owner is random._inst:  # type: ignore[attr-defined]  # the generator behind random.random() & co.
        return f"entropy: random.{function.__name__}"
    if function in SOCKET_CALLS or (isinstance(owner, socket.socket) and function.__name__ in SOCKET_METHODS):
        return f"network: socket {function.__name__}"
    return None


def _refused_python(frame: FrameType) -> str | None:
    """Why running this Python function at top level breaks the snapshot, or None."""
    code = frame.f_code
    if code.co_filename in STAND_INS:
        return f"runtime call: {code.co_qualname} (a JS object or JS call)"
    if code.co_filename == random.__file__:
        own = frame.f_locals.get("self")
        if own is random._inst:  # type: ignore[attr-defined]
            return f"entropy: random.{code.co_name}"
        if code is random.Random.seed.__code__ and frame.f_locals.get("a") is None:
            return "entropy: random.Random() without a seed"
    return None


class Guard:
    """The rules, armed while a worker's top level runs. A hook that raises is unset by CPython:
    the guard arms it again at the next import (it sits first on sys.meta_path, finding nothing),
    so a refusal the code catches does not hide the breaks after it."""

    def __init__(self) -> None:
        self.breaks: list[dict[str, Any]] = []

    def find_spec(self, *_args: Any) -> None:
        sys.setprofile(self._hook)

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            rule = _refused_builtin(arg)
        elif event == "call":
            rule = _refused_python(frame)
        else:
            return
        if rule is None:
            return
        where = traceback.extract_stack(frame if event == "c_call" else frame.f_back)
        callers = [f"{entry.filename}:{entry.lineno}" for entry in where
                   if entry.filename != __file__ and not entry.filename.startswith(("<frozen", STDLIB))]
        self.breaks.append({"rule": rule, "at": callers[-3:]})
        raise TopLevelBreak(f"{rule} is not allowed at a worker's top level")

    def __enter__(self) -> "Guard":
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]  # a finder by its find_spec
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *_exc: Any) -> None:
        sys.setprofile(None)
        sys.meta_path.remove(self)  # type: ignore[arg-type]


def deferred_models() -> list[str]:
    """The project's pydantic models whose validator is still to build: their first use, in a
    request, would build it in every isolate instead of once in the snapshot."""
    from pydantic import BaseModel

    def subclasses(model: type[BaseModel]) -> list[type[BaseModel]]:
        return [found for sub in model.__subclasses__() for found in (sub, *subclasses(sub))]

    return sorted({f"{model.__module__}.{model.__qualname__}" for model in subclasses(BaseModel)
                   if model.__module__.split(".")[0] in PROJECT_PACKAGES and not model.__pydantic_complete__})


def run_top_level(entry: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The breaks the worker whose main module is `entry` makes at top level, and the error its
    top level ended with, if any. Its directory comes first on sys.path (its bundle's root), then
    the project's (for shared/, which each bundle holds a copy of)."""
    from tests.inprocess import sdk

    sdk.install()
    sys.path[:0] = [str(entry.parent), str(ROOT)]
    spec = importlib.util.spec_from_file_location(entry.stem, entry)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[entry.stem] = module
    failure = None
    with Guard() as guard:
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 (reported, whatever it is)
            failure = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return guard.breaks, failure


def main() -> int:
    breaks, failure = run_top_level(Path(sys.argv[1]).resolve())
    imported = sorted(name for name in sys.modules if name.split(".")[0] in PROJECT_PACKAGES)
    print(json.dumps({"breaks": breaks, "failure": failure, "deferred_models": deferred_models(), "modules": imported}))
    return 1 if breaks or failure else 0


if __name__ == "__main__":
    sys.exit(main())
