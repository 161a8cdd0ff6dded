"""What an isolate keeps across the requests it serves, made from its env: settings parsed from
its vars, clients of its bindings, the state of its backends. One style for all of them:
`PerIsolate(make)`, called with the env a request brings. (A cache that needs no env, such as
parsed GraphQL documents, is a plain module-level value: a module lives as long as its isolate.)"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from shared.sdk import runtime_env

Kept = TypeVar("Kept")


class PerIsolate(Generic[Kept]):
    """`make(env)`, once per runtime env: one per isolate under the runtime, whose SDK wraps its
    one env anew for every request (shared/sdk.py); a test's fake env is its own (the last few
    are kept)."""

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
