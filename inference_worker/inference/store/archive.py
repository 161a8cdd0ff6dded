"""R2 (the ARCHIVE binding): event batches as NDJSON objects, a marker object for each batch
that D1 could not index when it came (what the scheduled replay looks for), and the text of
each document (`documents/<key id>/<document id>.txt`), and the payload logs of the calls whose
callers opted in (`payloads/<call id>.json`, shared/payloads.py)."""

from collections.abc import AsyncIterator
from typing import Any

from shared.batches import Marker

MARKER_PREFIX = "unindexed/"


class Archive:
    def __init__(self, binding: Any) -> None:
        self._r2 = binding

    async def store_events(self, marker: Marker, ndjson: str) -> None:
        await self._r2.put(marker.r2_key, ndjson,
                           {"httpMetadata": {"contentType": "application/x-ndjson"}, "customMetadata": {"key_id": marker.key_id}})

    async def mark_unindexed(self, marker: Marker, reason: str = "") -> None:
        """Leaves the batch (stored already: a marker never points at events that are not there)
        to the replay; `reason` says why it was not indexed (shown to the admin)."""
        metadata = {"key_id": marker.key_id, "tier": marker.tier, "r2_key": marker.r2_key, "received_at": str(marker.received_at),
                    "reason": reason[:500]}
        await self._r2.put(MARKER_PREFIX + marker.batch_id, "", {"customMetadata": metadata})

    async def drop_marker(self, batch_id: str) -> None:
        await self._r2.delete(MARKER_PREFIX + batch_id)

    async def _listed(self, prefix: str, page_size: int) -> AsyncIterator[Any]:
        """Every object under `prefix`, with its custom metadata, page by page (R2 lists at most
        1,000 keys a call). Listed objects are R2Object instances, not plain data: fields are attributes."""
        cursor = None
        while True:
            options: dict[str, Any] = {"prefix": prefix, "limit": page_size, "include": ["customMetadata"]}
            if cursor:
                options["cursor"] = cursor
            listing = await self._r2.list(options)
            for listed in listing.objects:
                yield listed
            if not listing.truncated:
                return
            cursor = listing.cursor

    async def markers(self, page_size: int = 100) -> AsyncIterator[Marker]:
        """Every marker."""
        async for listed in self._listed(MARKER_PREFIX, page_size):
            meta = listed.customMetadata
            yield Marker(batch_id=listed.key[len(MARKER_PREFIX):], key_id=meta.key_id,
                         tier=getattr(meta, "tier", None) or "free", r2_key=meta.r2_key, received_at=int(meta.received_at))

    async def unindexed(self, limit: int = 100) -> list[dict[str, Any]]:
        """The batches waiting for the replay, with why (what the admin sees)."""
        listing = await self._r2.list({"prefix": MARKER_PREFIX, "limit": limit, "include": ["customMetadata"]})
        return [{"batch_id": listed.key[len(MARKER_PREFIX):], "key_id": listed.customMetadata.key_id,
                 "received_at": int(listed.customMetadata.received_at), "reason": getattr(listed.customMetadata, "reason", None) or ""}
                for listed in listing.objects]

    async def read_batch(self, r2_key: str) -> str | None:
        body = await self._r2.get(r2_key)
        return None if body is None else await body.text()

    async def put_document(self, r2_key: str, text: str, key_id: str) -> None:
        await self._r2.put(r2_key, text, {"httpMetadata": {"contentType": "text/plain; charset=utf-8"},
                                          "customMetadata": {"key_id": key_id}})

    async def read_document(self, r2_key: str) -> str | None:
        return await self.read_batch(r2_key)

    async def delete_object(self, r2_key: str) -> None:
        await self._r2.delete(r2_key)

    async def put_payload(self, r2_key: str, text: str, key_id: str, expires_at: float) -> None:
        await self._r2.put(r2_key, text, {"httpMetadata": {"contentType": "application/json"},
                                          "customMetadata": {"key_id": key_id, "expires_at": str(expires_at)}})

    async def payload_expiries(self, prefix: str, page_size: int = 1000) -> AsyncIterator[tuple[str, float]]:
        """Each payload's key and when it expires."""
        async for listed in self._listed(prefix, page_size):
            expires_at = getattr(listed.customMetadata, "expires_at", None)
            # One without the field was not written by this code: kept, not guessed at.
            yield listed.key, float(expires_at) if expires_at else float("inf")

    async def probe(self) -> None:
        # A missing object answers None; any other outcome than an exception means R2 answered.
        await self._r2.head("health/probe")
