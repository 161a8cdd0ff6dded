"""Now, for everything that counts time in windows: the rate limit's minute, a day's quotas, the
api's key cache, leases and failed-credential throttle, the backends' cool-downs, the counter's
reservations and the events' retention. The real clock unless a test installs
its own (`use`), which it advances instead of waiting for a minute to pass."""

import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float: ...  # seconds since the epoch, as time.time()

    def monotonic(self) -> float: ...  # seconds for intervals, as time.monotonic()


class _RealClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


_clock: Clock = _RealClock()


def now() -> float:
    """Seconds since the epoch."""
    return _clock.time()


def monotonic() -> float:
    """Seconds for measuring intervals (never goes back)."""
    return _clock.monotonic()


def use(clock: Clock | None) -> None:
    """Installs `clock` for every reader of this module; None puts the real one back."""
    global _clock
    _clock = clock if clock is not None else _RealClock()
