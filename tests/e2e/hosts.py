"""The local hosts of an end-to-end run, started as soon as collection shows which ones its tests
use: one after the other, in the background, so that their start-up (mostly workerd loading
Python, and waiting) overlaps with the suites that run before them. A fixture asks for its host
and waits until it serves."""

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, Self


class Host(Protocol):
    """What a host of the run does (scripts/localhost.LocalHost, or conftest's RestoredPair)."""

    def start(self) -> Self: ...

    def wait_ready(self) -> Self: ...

    def __exit__(self, *exc: Any) -> None: ...


# A host's definition: its state folder in, the host (not started) out.
HostFactory = Callable[[Path], Host]


class _Start:
    def __init__(self) -> None:
        self.host: Host | None = None
        self.finished = threading.Event()
        self.error: BaseException | None = None


class EarlyHosts:
    def __init__(self, factories: dict[str, HostFactory]) -> None:
        self._factories = factories
        self._starts: dict[str, _Start] = {}
        self._lock = threading.Lock()
        self._state: Path | None = None  # made when a host first starts

    def start_in_background(self, names: Iterable[str]) -> None:
        # In the factories' order, each after the one before serves: hosts of one checkout share
        # its [build] output, which a start writes.
        ordered = [name for name in self._factories if name in set(names)]
        threading.Thread(target=lambda: [self._run(name) for name in ordered], daemon=True).start()

    def get(self, name: str) -> Any:
        """The host named `name`, ready (started now if no one started it)."""
        start = self._run(name)
        start.finished.wait()
        if start.host is None or start.error is not None:
            raise RuntimeError(f"the {name} host did not start") from start.error
        return start.host

    def _run(self, name: str) -> _Start:
        with self._lock:
            if name in self._starts:
                return self._starts[name]
            start = self._starts[name] = _Start()
            if self._state is None:
                self._state = Path(tempfile.mkdtemp(prefix="e2e-hosts-"))
            state_dir = self._state / name
        try:
            # Outside the lock: a host's definition may ask for another host.
            state_dir.mkdir()
            start.host = self._factories[name](state_dir)
            start.host.start().wait_ready()
        except BaseException as error:  # kept for the fixture that asks, which fails with it
            start.error = error
        finally:
            start.finished.set()
        return start

    def stop_all(self) -> None:
        with self._lock:
            starts = list(self._starts.values())
        for start in starts:
            start.finished.wait()
            if start.host is not None and start.error is None:
                start.host.__exit__(None, None, None)
        if self._state is not None:
            shutil.rmtree(self._state, ignore_errors=True)
