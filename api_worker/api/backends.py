"""The inference backends the api can call, and which one a request goes to.

A backend is a service binding named INFERENCE, INFERENCE_2, INFERENCE_3, ... (`make bindings`
writes them into wrangler.toml from backends.txt). A request goes to one backend, the next in
round-robin order among those whose circuit is closed; a backend that fails before it answers
(an exception, a timeout, a 5xx failure) is passed over for the next one; one that refuses the
request (a 4xx: the client's mistake) answered it, and that is a success. After
`failure_threshold` failures in a row its circuit opens: no request is sent to it for
`cooldown_seconds`, after which one request tries it (half-open) and closes the circuit if it
succeeds, or opens it again.

The state is per isolate: Cloudflare runs many isolates of the api worker, each with its own
rotation and its own breakers. Across isolates the spread evens out statistically rather than
exactly, and a failing backend is found out by each isolate on its own (each pays up to
`failure_threshold` failovers, each a retry on another backend, before its circuit opens).

Plain Python: the runtime's bindings are looked up by name by the caller (inference_client.py).
"""

from collections.abc import Callable
from typing import Any

from api.settings import settings_of
from shared.breaker import Breaker
from shared.isolate import PerIsolate

PRIMARY = "INFERENCE"
MAX_BACKENDS = 64


def backend_names(has_binding: Callable[[str], bool]) -> tuple[str, ...]:
    """INFERENCE, then INFERENCE_2, INFERENCE_3, ... for as long as the env has them."""
    names = [PRIMARY] if has_binding(PRIMARY) else []
    for number in range(2, MAX_BACKENDS + 1):
        if not has_binding(f"{PRIMARY}_{number}"):
            break
        names.append(f"{PRIMARY}_{number}")
    return tuple(names)


class BackendPool:
    def __init__(self, names: tuple[str, ...], failure_threshold: int = 3, cooldown_seconds: float = 30.0) -> None:
        if not names:
            raise ValueError("no inference backend is bound (a service binding named INFERENCE)")
        self.names = names
        self.failure_threshold = max(1, failure_threshold)
        self.cooldown_seconds = cooldown_seconds
        self.breakers = {name: Breaker() for name in names}
        self._next = 0

    def plan(self, now: float) -> list[str]:
        """The backends to try for one request, in order: one whose cool-down is over first (this
        request is its probe; the others are the failover), then the closed ones from the next in
        the rotation on. When every circuit is open they are all tried: the request is answered
        if any can answer."""
        start = self._next % len(self.names)
        self._next += 1
        rotation = self.names[start:] + self.names[:start]
        closed: list[str] = []
        probes: list[str] = []
        for name in rotation:
            breaker = self.breakers[name]
            state = breaker.state(now, self.cooldown_seconds)
            if state == "closed":
                closed.append(name)
            elif state == "half_open" and not probes and not breaker.probing(now, self.cooldown_seconds):
                breaker.probe_started = now
                probes.append(name)
        return probes + closed or list(rotation)

    def states(self, now: float) -> dict[str, dict[str, Any]]:
        """Each backend's circuit as the deep health check shows it: its state and failures in a row."""
        return {name: breaker.shown(now, self.cooldown_seconds) for name, breaker in self.breakers.items()}

    def succeeded(self, name: str) -> None:
        self.breakers[name] = Breaker()

    def failed(self, name: str, now: float) -> None:
        self.breakers[name].failed(now, self.failure_threshold)


def _pool(env: Any) -> BackendPool:
    settings = settings_of(env)
    return BackendPool(backend_names(lambda name: getattr(env, name, None) is not None),
                       settings.backend_failures, settings.backend_cooldown_seconds)


# This isolate's pool, built on its first request (bindings cannot change while it lives).
pool_of = PerIsolate(_pool)
