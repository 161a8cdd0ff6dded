"""The data center's Cache API (`caches.default`) as a cache of text that fails open, like KV
(store/kv.py): a read that fails is a miss and a write that fails is skipped. It is read before
KV: a hit there is answered from the data center the request is in, without KV's read (which,
for a key not read there lately, goes to KV's central store). Each data center keeps its own
copy, so a miss here falls back to KV, whose hit is then copied here. Cloudflare's Cache API
keeps entries for Workers on custom domains only (on workers.dev every read is a miss and KV
answers): GENERATION_CACHE_EDGE turns it on where it pays."""

from typing import Any

from inference.log import log

# The Cache API keys entries by URL; this host is never fetched, it only names the entries.
KEY_ORIGIN = "https://generation-cache.invalid/"


class EdgeCache:
    def __init__(self, cache: Any) -> None:
        self._cache = cache

    async def get(self, key: str) -> str | None:
        try:
            return await self._cache.read_text(KEY_ORIGIN + key)
        except Exception as exc:
            log(f"Cache API read failed, treated as a miss: {exc}")
            return None

    async def put(self, key: str, text: str, ttl_seconds: int) -> None:
        try:
            await self._cache.write_text(KEY_ORIGIN + key, text, ttl_seconds)
        except Exception as exc:
            log(f"Cache API write failed, answer kept in KV only: {exc}")
