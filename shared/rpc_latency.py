"""The RPC hop's latency, per caller and method: each isolate of the inference worker counts its
work calls' times into a histogram of fixed buckets per minute, and writes the counts to D1 at
most once a flush interval (inference/rpc_latency.py), so that no call waits for a write of its
own; GraphQL's RPC_LATENCY metric reads percentiles from the summed counts
(inference/store/analytics_sql.py). A percentile is its bucket's upper bound: the smallest bound
below which at least that share of the calls took."""

from dataclasses import dataclass, field

# Upper bounds, ms: each call is counted in the first that holds it; the last holds the rest.
BUCKET_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000)
MINUTE_MS = 60_000
FLUSH_INTERVAL_MS = 60_000
MAX_CELLS = 4_096  # an isolate's counts before a flush is due, whatever the interval: a bound on its memory

Cell = tuple[int, str, str, int]  # (minute start ms, key id, method, bucket bound ms)


def bucket_bound(ms: float) -> int:
    for bound in BUCKET_BOUNDS_MS:
        if ms <= bound:
            return bound
    return BUCKET_BOUNDS_MS[-1]


@dataclass
class LatencyTally:
    """One isolate's counts since its last flush."""

    flush_interval_ms: float = FLUSH_INTERVAL_MS
    counts: dict[Cell, int] = field(default_factory=dict)
    flushed_at_ms: float | None = None

    def add(self, key_id: str, method: str, ms: float, now_ms: float) -> None:
        cell = (int(now_ms - now_ms % MINUTE_MS), key_id, method, bucket_bound(ms))
        self.counts[cell] = self.counts.get(cell, 0) + 1
        if self.flushed_at_ms is None:
            self.flushed_at_ms = now_ms  # the first count: the interval starts now

    def due(self, now_ms: float) -> bool:
        if not self.counts:
            return False
        return len(self.counts) >= MAX_CELLS or now_ms - (self.flushed_at_ms or now_ms) >= self.flush_interval_ms

    def drain(self, now_ms: float) -> list[tuple[int, str, str, int, int]]:
        """The counts as rows (minute, key id, method, bound, count), forgotten here."""
        rows = [(*cell, count) for cell, count in self.counts.items()]
        self.counts = {}
        self.flushed_at_ms = now_ms
        return rows
