"""A circuit breaker: what the api keeps for each inference backend (api/backends.py) and the
inference worker for each external provider (inference/ai_client.py). Closed, it lets every call
through; after `threshold` failures in a row it opens: no call goes for `cooldown` seconds, after
which it is half-open: one call (the probe) tries it, and closes it if it succeeds, or opens it
again. Plain Python, per isolate."""

from dataclasses import dataclass
from typing import Any, Literal

CircuitState = Literal["closed", "open", "half_open"]


@dataclass
class Breaker:
    failures: int = 0  # in a row
    opened_at: float | None = None  # None: closed
    probe_started: float | None = None  # half-open: when a call went to try it

    def state(self, now: float, cooldown: float) -> CircuitState:
        if self.opened_at is None:
            return "closed"
        return "half_open" if now - self.opened_at >= cooldown else "open"

    def probing(self, now: float, cooldown: float) -> bool:
        # A probe that never reported (its call was cancelled) stops counting after a cool-down.
        return self.probe_started is not None and now - self.probe_started < cooldown

    def admits(self, now: float, cooldown: float) -> bool:
        """Whether a call may go: closed, or half-open with no probe under way (this call is it)."""
        state = self.state(now, cooldown)
        if state == "half_open" and not self.probing(now, cooldown):
            self.probe_started = now
            return True
        return state == "closed"

    def failed(self, now: float, threshold: int) -> None:
        self.failures += 1
        self.probe_started = None
        if self.opened_at is not None or self.failures >= threshold:
            self.opened_at = now  # (re)opened: a failed probe waits a whole cool-down again

    def shown(self, now: float, cooldown: float) -> dict[str, Any]:
        """As the deep health check shows it: its state and its failures in a row."""
        return {"state": self.state(now, cooldown), "failures": self.failures}
