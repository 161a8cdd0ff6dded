"""One set of in-memory stand-ins for the inference worker's bindings, for unit tests on CPython:
D1 is SQLite with the project's own migrations (D1 is SQLite, and its numbered parameters are
SQLite's), so the store's SQL runs for real; KV, R2, Analytics Engine and Workers AI keep what
they are given. Each can be told to fail, as the real one can."""

import json
import math
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

MIGRATIONS = sorted((Path(__file__).resolve().parents[1] / "migrations").glob("*.sql"))


def migrated_sqlite() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    for migration in MIGRATIONS:
        conn.executescript(migration.read_text())
    return conn


class D1Statement:
    def __init__(self, d1: "D1", sql: str) -> None:
        self.d1, self.sql, self.params = d1, sql, []

    def bind(self, *params: Any) -> "D1Statement":
        self.params = list(params)
        return self

    def execute(self) -> SimpleNamespace:
        if self.d1.failing and self.d1.failing in self.sql:
            raise RuntimeError(f"D1_ERROR: injected failure on {self.d1.failing!r}")
        cursor = self.d1.conn.execute(self.sql, self.params)
        rows = [dict(row) for row in cursor.fetchall()]
        return SimpleNamespace(results=rows, meta=SimpleNamespace(changes=max(cursor.rowcount, 0)))

    async def first(self) -> dict[str, Any] | None:
        results = self.execute().results
        return results[0] if results else None

    async def all(self) -> SimpleNamespace:
        return self.execute()

    async def run(self) -> SimpleNamespace:
        return self.execute()


class D1:
    def __init__(self) -> None:
        self.conn = migrated_sqlite()
        self.failing: str | None = None  # statements whose SQL holds this fail
        self.batches = 0

    def prepare(self, sql: str) -> D1Statement:
        return D1Statement(self, sql)

    async def batch(self, statements: list[D1Statement]) -> list[SimpleNamespace]:
        """All or nothing, as D1's batch is a transaction."""
        self.batches += 1
        self.conn.execute("BEGIN")
        try:
            results = [statement.execute() for statement in statements]
        except Exception:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return results

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return [tuple(row) for row in self.conn.execute(sql, params).fetchall()]


class KV:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttls: dict[str, int | None] = {}
        self.failing = False

    async def get(self, key: str) -> str | None:
        if self.failing:
            raise RuntimeError("KV GET failed: 503")
        return self.data.get(key)

    async def put(self, key: str, value: str, expirationTtl: int | None = None) -> None:
        if self.failing:
            raise RuntimeError("KV PUT failed: 503")
        self.data[key] = value
        self.ttls[key] = expirationTtl


class EdgeCache:
    """The data center's Cache API as inference/store/runtime.py's CacheApi adapter presents it."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[str, int]] = {}
        self.reads = 0
        self.failing = False

    async def read_text(self, url: str) -> str | None:
        if self.failing:
            raise RuntimeError("cache match failed")
        self.reads += 1
        return self.data[url][0] if url in self.data else None

    async def write_text(self, url: str, text: str, ttl_seconds: int) -> None:
        if self.failing:
            raise RuntimeError("cache put failed")
        self.data[url] = (text, ttl_seconds)


class R2:
    """Lists `limit` keys a page like R2, whose cursor continues after the last key listed
    whatever was deleted meanwhile."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, dict]] = {}
        self.failing = False
        self.failing_puts_under: str | None = None  # puts of keys with this prefix fail

    def _check(self) -> None:
        if self.failing:
            raise RuntimeError("R2 failed: 500")

    async def put(self, key: str, body: str, options: dict | None = None) -> None:
        self._check()
        if self.failing_puts_under is not None and key.startswith(self.failing_puts_under):
            raise RuntimeError("R2 put failed: 500")
        self.objects[key] = (body, dict((options or {}).get("customMetadata") or {}))

    async def head(self, key: str) -> SimpleNamespace | None:
        self._check()
        return SimpleNamespace(key=key) if key in self.objects else None

    async def list(self, options: dict) -> SimpleNamespace:
        self._check()
        after = options.get("cursor", "")
        keys = sorted(k for k in self.objects if k.startswith(options["prefix"]) and k > after)
        page = keys[:options["limit"]]
        truncated = len(keys) > len(page)
        objects = [SimpleNamespace(key=k, customMetadata=SimpleNamespace(**self.objects[k][1])) for k in page]
        return SimpleNamespace(objects=objects, truncated=truncated, cursor=page[-1] if truncated else None)

    async def get(self, key: str) -> SimpleNamespace | None:
        self._check()
        if key not in self.objects:
            return None
        text = self.objects[key][0]

        async def read() -> str:
            return text
        return SimpleNamespace(text=read)

    async def delete(self, key: str) -> None:
        self._check()
        self.objects.pop(key, None)


class AnalyticsEngine:
    def __init__(self, writes_per_invocation: int | None = None) -> None:
        self.points: list[dict] = []
        self.limit = writes_per_invocation

    def writeDataPoint(self, point: dict) -> None:
        if self.limit is not None and len(self.points) >= self.limit:
            raise RuntimeError("writeDataPoint(): too many writes in this invocation")
        self.points.append(point)

    def writeDataPoints(self, points: list[dict]) -> list[str | None]:  # as inference/store/runtime.py's adapter
        outcomes: list[str | None] = []
        for point in points:
            try:
                self.writeDataPoint(point)
                outcomes.append(None)
            except RuntimeError as exc:
                outcomes.append(str(exc))
        return outcomes


class WorkersAI:
    def __init__(self, answer: Any = None) -> None:
        self.answer = {"response": "pong"} if answer is None else answer
        self.calls: list[tuple[str, dict]] = []

    async def run(self, model: str, inputs: dict, options: dict | None = None) -> Any:
        self.calls.append((model, inputs))
        return self.answer

    async def run_vectors_json(self, model: str, inputs: dict, options: dict | None = None) -> str:  # as store/runtime.py's adapter
        return json.dumps((await self.run(model, inputs))["data"], separators=(",", ":"))


class Vectorize:
    """A Vectorize index: vectors by id, as the store writes them (upsert_json) and removes them."""

    def __init__(self) -> None:
        self.vectors: dict[str, dict[str, Any]] = {}

    async def upsert_json(self, vectors_json: str) -> None:  # as inference/store/runtime.py's adapter
        for vector in json.loads(vectors_json):
            self.vectors[vector["id"]] = vector

    async def deleteByIds(self, ids: list[str]) -> None:  # noqa: N802 (the binding's own name)
        for vector_id in ids:
            self.vectors.pop(vector_id, None)

    async def query(self, vector: list[float], options: dict) -> dict:
        """The `topK` nearest of the namespace by cosine similarity (its $in and $eq filters applied), best first."""
        def kept(metadata: dict) -> bool:
            return all(metadata.get(field) in condition["$in"] if "$in" in condition else metadata.get(field) == condition["$eq"]
                       for field, condition in (options.get("filter") or {}).items())

        candidates = [v for v in self.vectors.values() if v.get("namespace") == options.get("namespace") and kept(v["metadata"])]
        matches = [{"id": v["id"], "score": _cosine(vector, v["values"]), "metadata": v["metadata"]} for v in candidates]
        return {"matches": sorted(matches, key=lambda m: -m["score"])[:options["topK"]]}

    async def describe(self) -> dict:
        return {"vectorCount": len(self.vectors)}


def _cosine(a: list[float], b: list[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=False)) / norms if norms else 0.0


class Queue:
    """A queue producer: keeps what was sent; `failing` refuses every send."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failing = False

    async def send(self, body: str) -> None:
        if self.failing:
            raise RuntimeError("Queue send failed: 500")
        self.sent.append(body)


def inference_env(**variables: str) -> SimpleNamespace:
    """The inference worker's env: every binding, and `variables` as its vars."""
    return SimpleNamespace(DB=D1(), CACHE=KV(), ARCHIVE=R2(), ANALYTICS=AnalyticsEngine(), AI=WorkersAI(), **variables)
