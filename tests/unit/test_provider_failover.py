"""The attempts of a generation over Workers AI and a list of providers (inference/ai_client.py,
inference/circuits.py): each failure handled as its class says, each provider's circuit opened by
its own failures and cooled down for its own time. The attempts are answered by a script of
outcomes, as Workers AI's binding and the providers would fail (shared/failures.py)."""

import asyncio
import json
from types import SimpleNamespace

import pytest

from inference.ai_client import RetryPolicy, _with_retries, provider_circuits
from inference.external import ProviderError
from shared import clock
from shared.contract import ServiceFailed
from shared.failures import provider_failure
from shared.routing import WORKERS_AI

MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
PROVIDERS = json.dumps([
    {"name": "together", "url": "https://together.example/v1", "key_secret": "TOGETHER_KEY", "failures": 2, "cooldown_seconds": 60,
     "models": {"llama-3.3-70b": "meta-llama/Llama-3.3-70B"}},
    {"name": "groq", "url": "https://groq.example/v1", "failures": 1, "cooldown_seconds": 10, "models": {"llama-3.3-70b": "llama-3.3"}},
])
ATTEMPTS = [(WORKERS_AI, MODEL), ("together", MODEL), ("groq", MODEL)]
DAILY_ALLOCATION = Exception("AiError: 4006: you have used up your daily free allocation of 10,000 neurons")
OVERLOADED = ProviderError(provider_failure("together", 503, '{"error": {"message": "overloaded"}}'))
RATE_LIMITED = ProviderError(provider_failure("groq", 429, '{"error": {"code": "rate_limit_exceeded"}}', retry_after="7"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return 1_764_763_200.0 + self.now  # 2025-12-03 12:00 UTC onwards

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_clock():
    ticking = FakeClock()
    clock.use(ticking)
    yield ticking
    clock.use(None)


@pytest.fixture
def env(request):
    # Named after the test: an isolate's circuits are kept per env, and equal envs are one isolate's.
    return SimpleNamespace(PROVIDERS=PROVIDERS, TOGETHER_KEY="k", TEST=request.node.name)


def run(env, script: dict[str, list]) -> tuple[object, list[str]]:
    """The answer (or the ServiceFailure) of the attempts, each provider answering from its script
    (an exception to raise, or an answer), and the providers called, in order."""
    called = []

    async def call(provider: str, model: str):
        called.append(provider)
        outcome = script[provider].pop(0) if script.get(provider) else "answer"
        if isinstance(outcome, Exception):
            raise outcome
        return provider

    try:
        return asyncio.run(_with_retries(env, ATTEMPTS, RetryPolicy(attempts_per_model=2, backoff_ms=0), call)), called
    except ServiceFailed as failed:
        return failed.failure, called


def test_workers_ai_out_of_its_allocation_goes_to_the_first_provider_without_a_retry(env, fake_clock):
    answer, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION]})

    assert (answer, called) == ("together", [WORKERS_AI, "together"])


def test_a_provider_is_retried_while_transient_then_the_next_one_answers(env, fake_clock):
    answer, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION], "together": [OVERLOADED, OVERLOADED]})

    assert (answer, called) == ("groq", [WORKERS_AI, "together", "together", "groq"])


def test_a_provider_whose_circuit_opened_is_passed_over_until_its_own_cool_down_is_over(env, fake_clock):
    run(env, {WORKERS_AI: [DAILY_ALLOCATION], "together": [OVERLOADED, OVERLOADED]})  # two failures: together opens
    assert provider_circuits(env).shown(fake_clock.now)["together"] == {"state": "open", "failures": 2}

    _, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION]})
    assert called == [WORKERS_AI, "groq"]

    fake_clock.now += 60  # its cool-down: one request probes it, and closes it by its answer
    answer, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION]})
    assert (answer, called) == ("together", [WORKERS_AI, "together"])
    assert provider_circuits(env).shown(fake_clock.now)["together"] == {"state": "closed", "failures": 0}


def test_a_providers_rate_limit_opens_its_circuit_at_once(env, fake_clock):
    answer, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION], "together": [OVERLOADED, OVERLOADED], "groq": [RATE_LIMITED]})

    assert called == [WORKERS_AI, "together", "together", "groq"]  # a limit is not retried
    assert answer.code == "workers_ai_daily_limit"  # the first limit met
    assert provider_circuits(env).shown(fake_clock.now)["groq"]["state"] == "open"


def test_every_circuit_open_still_tries_them_rather_than_refuse(env, fake_clock):
    run(env, {WORKERS_AI: [DAILY_ALLOCATION], "together": [OVERLOADED, OVERLOADED], "groq": [RATE_LIMITED]})

    answer, called = run(env, {})

    assert answer == WORKERS_AI and called == [WORKERS_AI]


def test_the_clients_fault_is_answered_at_once_and_opens_nothing(env, fake_clock):
    too_long = ProviderError(provider_failure("together", 400, '{"error": {"code": "context_length_exceeded"}}'))

    answer, called = run(env, {WORKERS_AI: [DAILY_ALLOCATION], "together": [too_long]})

    assert (answer.code, called) == ("context_length_exceeded", [WORKERS_AI, "together"])
    assert provider_circuits(env).shown(fake_clock.now)["together"]["failures"] == 0
