"""The inference worker's storage, one object per binding: `Database` (D1), `Cache` (KV),
`Archive` (R2) and `Telemetry` (Analytics Engine). These modules are the only ones that touch
env.DB, env.CACHE, env.ARCHIVE and env.ANALYTICS; capability modules ask `stores_of(env)`."""

from functools import cached_property
from typing import Any

from inference.settings import runtime_env
from inference.store.archive import Archive
from inference.store.d1 import Database
from inference.store.kv import Cache
from inference.store.telemetry import Telemetry


class Stores:
    """Each binding's store, made when first used (a request that needs only D1 reads no other
    binding from the env)."""

    def __init__(self, env: Any) -> None:
        self._env = env

    @cached_property
    def db(self) -> Database:
        return Database(self._env.DB)

    @cached_property
    def cache(self) -> Cache:
        return Cache(self._env.CACHE)

    @cached_property
    def archive(self) -> Archive:
        return Archive(self._env.ARCHIVE)

    @cached_property
    def telemetry(self) -> Telemetry:
        return Telemetry(self._env.ANALYTICS)


# (runtime env, its stores): kept per isolate like the settings; bindings outlive requests.
_made: list[tuple[Any, Stores]] = []


def stores_of(env: Any) -> Stores:
    source = runtime_env(env)
    for known, stores in _made:
        if known is source or known == source:
            return stores
    stores = Stores(env)
    _made[:] = [*_made[-7:], (source, stores)]
    return stores
