"""The inference worker's storage, one object per binding: `Database` (D1), `Cache` (KV),
`EdgeCache` (the Cache API), `Archive` (R2), `Telemetry` (Analytics Engine) and `Vectors` (Vectorize), and the event queue
(shared/batches.py, as the api sends to it too). These modules are the only ones that touch
env.DB, env.CACHE, env.ARCHIVE, env.ANALYTICS and env.VECTORS; capability modules ask `stores_of(env)`."""

from functools import cached_property
from typing import Any

from inference.bindings import binding, has_binding
from inference.store.archive import Archive
from inference.store.counters import Counters
from inference.store.d1 import Database
from inference.store.edge import EdgeCache
from inference.store.kv import Cache
from inference.store.telemetry import Telemetry
from inference.store.vectors import Vectors
from shared.batches import EventQueue, event_queue
from shared.isolate import PerIsolate
from shared.sdk import runtime_env


class Stores:
    """Each binding's store, made when first used (a request that needs only D1 reads no other
    binding from the env). Under the runtime, the stores speak to its own binding objects through
    store/runtime.py; a test's env holds Python stand-ins, used as they are."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def _binding(self, name: str, adapter: str) -> Any:
        return binding(self._env, name, adapter)

    @cached_property
    def db(self) -> Database:
        return Database(self._binding("DB", "D1"))

    @cached_property
    def cache(self) -> Cache:
        return Cache(self._binding("CACHE", "KV"))

    @cached_property
    def edge(self) -> EdgeCache | None:
        """The data center's Cache API under the runtime; a test's env has one if it holds an EDGE_CACHE."""
        if runtime_env(self._env) is self._env:
            stand_in = getattr(self._env, "EDGE_CACHE", None)
            return EdgeCache(stand_in) if stand_in is not None else None
        from inference.store import runtime  # imports js: only under the runtime

        return EdgeCache(runtime.default_cache())

    @cached_property
    def archive(self) -> Archive:
        return Archive(self._binding("ARCHIVE", "R2"))

    @cached_property
    def telemetry(self) -> Telemetry:
        return Telemetry(self._binding("ANALYTICS", "AnalyticsEngine"))

    @cached_property
    def counters(self) -> Counters | None:
        """None where no KEY_COUNTER namespace is bound: admission then counts in D1 (a deployment without Durable Objects)."""
        if not has_binding(self._env, "KEY_COUNTER"):
            return None
        return Counters(runtime_env(self._env).KEY_COUNTER)  # the runtime's namespace: its stubs take strings as they are

    @cached_property
    def queue(self) -> EventQueue | None:
        """None where no queue is bound: batches are then indexed as they come (a deployment
        without Queues)."""
        return event_queue(self._env)

    @cached_property
    def vectors(self) -> Vectors | None:
        """None where the worker has no Vectorize index bound (documents are then unavailable)."""
        return Vectors(self._binding("VECTORS", "Vectorize")) if has_binding(self._env, "VECTORS") else None


# Kept per isolate, like the settings: bindings outlive requests.
stores_of = PerIsolate(Stores)
