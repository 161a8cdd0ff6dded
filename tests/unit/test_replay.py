"""The replay of batches D1 could not index: every marker is visited, page by page; a failing
batch holds back none of the others; a marker whose events were never stored is removed."""

import asyncio
from types import SimpleNamespace

from inference import events as ingestion
from shared.events import to_ndjson, validate_batch

NOW = 1_800_000_000_000


class Bucket:
    """The R2 calls the replay makes, over a dict, listing `limit` keys a page like R2 (whose
    cursor continues after the last key listed, whatever was deleted meanwhile)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, dict]] = {}

    async def list(self, options: dict) -> SimpleNamespace:
        after = options.get("cursor", "")
        keys = sorted(k for k in self.objects if k.startswith(options["prefix"]) and k > after)
        page = keys[:options["limit"]]
        truncated = len(keys) > len(page)
        objects = [SimpleNamespace(key=k, customMetadata=SimpleNamespace(**self.objects[k][1])) for k in page]
        return SimpleNamespace(objects=objects, truncated=truncated, cursor=page[-1] if truncated else None)

    async def get(self, key: str) -> SimpleNamespace | None:
        if key not in self.objects:
            return None
        text = self.objects[key][0]

        async def read() -> str:
            return text
        return SimpleNamespace(text=read)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def stored_batch(bucket: Bucket, batch_id: str, with_events: bool = True) -> None:
    events, _ = validate_batch([{"type": "view", "id": batch_id}], NOW)
    r2_key = f"events/2027-01-15/{batch_id}.ndjson"
    if with_events:
        bucket.objects[r2_key] = (to_ndjson(events), {})
    meta = {"key_id": "k1", "tier": "pro", "r2_key": r2_key, "received_at": str(NOW)}
    bucket.objects[ingestion.MARKER_PREFIX + batch_id] = ("", meta)


def test_every_marker_is_replayed_past_failures_and_orphans_are_removed(monkeypatch):
    bucket = Bucket()
    for i in range(250):
        stored_batch(bucket, f"b{i:03d}", with_events=i % 50 != 7)  # 5 orphans
    indexed = []

    async def index_batch(env, key_id, batch_id, r2_key, received_at, events):
        if batch_id < "b060":  # the first 60 keep failing, as a bad batch would every run
            raise RuntimeError("D1 refused it")
        indexed.append(batch_id)
        await env.ARCHIVE.delete(ingestion.MARKER_PREFIX + batch_id)
        return len(events)

    monkeypatch.setattr(ingestion, "index_batch", index_batch)
    env = SimpleNamespace(ARCHIVE=bucket, EVENTS_ENRICHMENT="false")

    outcome = asyncio.run(ingestion.replay_unindexed(env))

    # 250 markers: 5 orphans (2 of them among the first 60), 58 failing, the rest indexed.
    assert outcome == {"replayed": 187, "failed": 58, "orphans_removed": 5, "remaining": 0}
    assert len(indexed) == 187 and indexed[-1] == "b249"
    markers = [k for k in bucket.objects if k.startswith(ingestion.MARKER_PREFIX)]
    assert len(markers) == 58  # only the failing ones wait for the next run


def test_a_run_tries_at_most_max_batches_and_counts_the_rest(monkeypatch):
    bucket = Bucket()
    for i in range(30):
        stored_batch(bucket, f"c{i:02d}")

    async def index_batch(env, key_id, batch_id, r2_key, received_at, events):
        await env.ARCHIVE.delete(ingestion.MARKER_PREFIX + batch_id)
        return 1

    monkeypatch.setattr(ingestion, "index_batch", index_batch)
    outcome = asyncio.run(ingestion.replay_unindexed(SimpleNamespace(ARCHIVE=bucket), max_batches=20))

    assert (outcome["replayed"], outcome["remaining"]) == (20, 10)
