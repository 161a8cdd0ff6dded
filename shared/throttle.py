"""Failed credentials, counted per client address in fixed one-minute windows, per isolate: past
the allowance a client gets 429 before its credentials are even looked at, so guessing keys or
tokens costs the guesser time and the service nothing. Per isolate, so a speed bump rather than
a wall: Cloudflare spreads one client over few isolates, and D1 is spared a write per failure."""

from dataclasses import dataclass, field

from shared.bounded import BoundedMap

WINDOW_SECONDS = 60
DEFAULT_ALLOWANCE = 20  # failed attempts a client address may make a minute
# Addresses remembered at once (~250 bytes each: ~4,000 fit the bytes); past either bound, the addresses whose last
# failure is the oldest are forgotten first (a forgotten address starts its window again).
MAX_TRACKED = 10_000
MAX_TRACKED_BYTES = 1024 * 1024


def _tracked() -> BoundedMap[str, tuple[int, int]]:
    return BoundedMap(MAX_TRACKED, MAX_TRACKED_BYTES)


@dataclass
class FailedAttempts:
    allowance: int = DEFAULT_ALLOWANCE
    windows: BoundedMap[str, tuple[int, int]] = field(default_factory=_tracked)  # address -> (window start, failures)

    def _window(self, now: float) -> int:
        return int(now) - int(now) % WINDOW_SECONDS

    def retry_after(self, address: str, now: float) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        start, failures = self.windows.get(address) or (0, 0)
        if start != self._window(now) or failures < self.allowance:
            return None
        return max(1, start + WINDOW_SECONDS - int(now))

    def record_failure(self, address: str, now: float) -> None:
        window = self._window(now)
        start, failures = self.windows.get(address) or (window, 0)
        self.windows.put(address, (window, failures + 1 if start == window else 1))
