"""KV (the CACHE binding) as a cache that fails open: a read that fails is a miss and a write
that fails is skipped, so KV being down never fails a request that D1 and the model can answer."""

from typing import Any

from inference.log import log


class Cache:
    def __init__(self, binding: Any) -> None:
        self._kv = binding

    async def get(self, key: str) -> str | None:
        try:
            return await self._kv.get(key)
        except Exception as exc:
            log(f"KV read failed, treated as a cache miss: {exc}")
            return None

    async def put(self, key: str, text: str, ttl_seconds: int) -> None:
        try:
            await self._kv.put(key, text, expirationTtl=ttl_seconds)
        except Exception as exc:
            log(f"KV write failed, answer not cached: {exc}")

    async def read_probe(self) -> None:
        """Reads a key (a missing one answers None): KV answered, nothing written."""
        await self._kv.get("health:probe:read")

    async def probe(self, token: str, ttl_seconds: int) -> None:
        """Writes `token` and reads it back, failing loudly (what a health check needs)."""
        key = f"health:probe:{token}"
        await self._kv.put(key, token, expirationTtl=ttl_seconds)
        read = await self._kv.get(key)
        if read != token:
            raise RuntimeError(f"read back {read!r} after writing {token!r}")
