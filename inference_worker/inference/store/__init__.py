"""The inference worker's storage, one object per binding: `Database` (D1), `Cache` (KV),
`Archive` (R2) and `Telemetry` (Analytics Engine). These modules are the only ones that touch
env.DB, env.CACHE, env.ARCHIVE and env.ANALYTICS; capability modules ask `stores_of(env)`."""

from dataclasses import dataclass
from typing import Any

from inference.store.archive import Archive
from inference.store.d1 import Database
from inference.store.kv import Cache
from inference.store.telemetry import Telemetry


@dataclass(frozen=True)
class Stores:
    db: Database
    cache: Cache
    archive: Archive
    telemetry: Telemetry

    @classmethod
    def from_env(cls, env: Any) -> "Stores":
        return cls(Database(env.DB), Cache(env.CACHE), Archive(env.ARCHIVE), Telemetry(env.ANALYTICS))


def stores_of(env: Any) -> Stores:
    """Built once per env object, like the settings (inference/settings.py)."""
    try:
        kept = vars(env)
    except TypeError:
        return Stores.from_env(env)
    if "_stores" not in kept:
        kept["_stores"] = Stores.from_env(env)
    return kept["_stores"]
