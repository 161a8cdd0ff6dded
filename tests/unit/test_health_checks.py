"""The health check's own logic, against the in-memory bindings (tests/fakes.py; the real ones
are exercised end to end in tests/e2e/test_health.py)."""

import asyncio

import pytest

from inference import health
from tests.fakes import inference_env


def env():
    return inference_env(DEFAULT_MODEL="@cf/meta/llama-3.1-8b-instruct-fast", HEALTH_AI_PROBE_TTL_SECONDS="60")


@pytest.fixture(autouse=True)
def fresh_probe_memo():
    health._last_ai_probe.update(at=None, status=None)
    health._last_deep.clear()


def test_all_bindings_answering_is_ok():
    report = asyncio.run(health.check_bindings(env(), "req-1"))

    assert report.ok
    assert set(report.bindings) == {"DB", "CACHE", "ARCHIVE", "ANALYTICS", "AI"}
    assert report.request_id == "req-1"


def test_a_failing_binding_marks_only_that_binding_down():
    broken = env()
    broken.CACHE.failing = True

    report = asyncio.run(health.check_bindings(broken, "req-2", deep=True))

    assert not report.ok
    assert not report.bindings["CACHE"].ok
    assert "KV PUT failed" in report.bindings["CACHE"].error
    assert all(status.ok for name, status in report.bindings.items() if name != "CACHE")


def test_the_ai_probe_runs_at_most_once_per_ttl():
    probed = env()

    async def twice():
        await health.check_bindings(probed, "a", deep=True)
        await health.check_bindings(probed, "b", deep=True)

    asyncio.run(twice())

    assert len(probed.AI.calls) == 1


def test_the_public_check_writes_nothing_and_calls_no_model():
    quiet = env()

    report = asyncio.run(health.check_bindings(quiet, "c"))

    assert report.ok and quiet.AI.calls == [] and quiet.ANALYTICS.points == [] and quiet.CACHE.data == {}
    assert {name for name, status in report.bindings.items() if not status.checked} == {"ANALYTICS", "AI"}
