"""Vectorize (the VECTORS binding): one vector per document passage, id `<document id>#<n>`, in
the caller's namespace (its key id: one caller's search never sees another's passages), with
the passage's document, number, title and text as metadata (a match is citable as it comes);
and the semantic cache's questions, in a namespace of their own per caller (inference/semantic_cache.py)."""

import json
from typing import Any

# Vectorize's limits: ids up to 64 bytes, at most 1,000 vectors an upsert and ids a delete.
MAX_IDS_PER_CALL = 1_000


class Vectors:
    def __init__(self, binding: Any) -> None:
        self._index = binding

    async def upsert(self, namespace: str, vectors: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Upserts (id, values, metadata) vectors, each one's values as the JSON text of its numbers
        (shared/embeddings.py): the call's argument is written as JSON text around them, parsed once
        by the runtime, and no value becomes a Python float."""
        for start in range(0, len(vectors), MAX_IDS_PER_CALL):
            await self._index.upsert_json("[" + ",".join(
                f'{{"id":{json.dumps(vector_id)},"values":[{values}],"namespace":{json.dumps(namespace)},"metadata":{json.dumps(metadata)}}}'
                for vector_id, values, metadata in vectors[start:start + MAX_IDS_PER_CALL]) + "]")

    async def query(self, namespace: str, vector: list[float], top_k: int, documents: list[str] | None = None,
                    where: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The nearest vectors: [{"id", "score", "metadata"}], best first; of the `documents`, or
        whose metadata holds `where`'s values."""
        options: dict[str, Any] = {"topK": top_k, "namespace": namespace, "returnMetadata": "all"}
        # Each filtered field needs a metadata index (README: wrangler vectorize create-metadata-index).
        if documents:
            options["filter"] = {"doc": {"$in": documents}}
        if where:
            options["filter"] = {**options.get("filter", {}), **{field: {"$eq": value} for field, value in where.items()}}
        answer = await self._index.query(vector, options)
        return list(answer["matches"])

    async def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            await self._index.deleteByIds(ids[start:start + MAX_IDS_PER_CALL])

    async def probe(self) -> None:
        await self._index.describe()
