"""What an isolate keeps across the calls it serves. The SDK hands each call a new wrapper of
the runtime's env (`_EnvWrapper`), so anything cached on the wrapper is parsed again per call;
the runtime's own env object behind it is the same for every call of an isolate."""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from shared.runtime import runtime_env

Kept = TypeVar("Kept")


def binding(env: Any, name: str, adapter: str) -> Any:
    """The binding `name`: under the runtime its own object wrapped in store/runtime.py's
    `adapter` (the SDK's wrapper converts every value, one by one, on every call); a test's
    Python stand-in as it is."""
    source = runtime_env(env)
    if source is env:
        return getattr(env, name)
    from inference.store import runtime  # imports js: only under the runtime

    return getattr(runtime, adapter)(getattr(source, name))


def has_binding(env: Any, name: str) -> bool:
    return getattr(runtime_env(env), name, None) is not None


class PerIsolate(Generic[Kept]):
    """`make(env)`, once per runtime env: one per isolate under the runtime; a test's fake env is
    its own (the last few are kept)."""

    def __init__(self, make: Callable[[Any], Kept]) -> None:
        self._make = make
        self._kept: list[tuple[Any, Kept]] = []

    def __call__(self, env: Any) -> Kept:
        source = runtime_env(env)
        for known, value in self._kept:
            if known is source or known == source:
                return value
        value = self._make(env)
        self._kept = [*self._kept[-7:], (source, value)]
        return value
