"""Each external provider's circuit (shared/breaker.py), per isolate, with the provider's own
threshold and cool-down (PROVIDERS' `failures` and `cooldown_seconds`): a provider that keeps
failing is passed over, not waited on, until its cool-down is over. Its limit (a rate limit, its
credit used up) opens it at once. The client's fault never counts. Workers AI, the binding, has
none: its failures are each request's to classify. Plain Python."""

from collections.abc import Mapping
from typing import Any

from shared.breaker import Breaker
from shared.failures import Failure, FailureClass
from shared.routing import Provider

Attempt = tuple[str, str]  # (provider, catalog model)


class ProviderCircuits:
    def __init__(self, providers: Mapping[str, Provider]) -> None:
        self.providers = providers
        self.breakers = {name: Breaker() for name in providers}

    def passable(self, attempts: list[Attempt], now: float) -> list[Attempt]:
        """The attempts whose provider's circuit lets a call through (a half-open one lets this
        request be its probe); every attempt if none would be left: better tried than refused."""
        admitted = {provider: self.breakers[provider].admits(now, self.providers[provider].cooldown_seconds)
                    for provider in dict.fromkeys(provider for provider, _ in attempts) if provider in self.breakers}
        passable = [attempt for attempt in attempts if admitted.get(attempt[0], True)]
        return passable or attempts

    def succeeded(self, provider: str) -> None:
        if provider in self.breakers:
            self.breakers[provider] = Breaker()

    def failed(self, provider: str, failure: Failure, now: float) -> None:
        if provider not in self.breakers or failure.kind is FailureClass.CLIENT:
            return
        threshold = 1 if failure.kind is FailureClass.LIMIT else self.providers[provider].failures
        self.breakers[provider].failed(now, threshold)

    def shown(self, now: float) -> dict[str, dict[str, Any]]:
        return {name: breaker.shown(now, self.providers[name].cooldown_seconds) for name, breaker in self.breakers.items()}
