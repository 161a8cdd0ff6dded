"""The health check's own logic, against small in-memory bindings (the real ones are
exercised end to end in tests/e2e/test_health.py)."""

import asyncio

import pytest

from inference import health


class Statement:
    def __init__(self, row):
        self.row = row

    async def first(self):
        return self.row


class Database:
    def __init__(self, row):
        self.row = row

    def prepare(self, sql):
        return Statement(self.row)


class KeyValue:
    def __init__(self):
        self.data = {}

    async def put(self, key, value, expirationTtl=None):
        self.data[key] = value

    async def get(self, key):
        return self.data.get(key)


class Bucket:
    async def head(self, key):
        return None


class Analytics:
    def __init__(self):
        self.points = []

    def writeDataPoint(self, point):
        self.points.append(point)


class Model:
    def __init__(self):
        self.calls = 0

    async def run(self, model, inputs):
        self.calls += 1
        return {"response": "pong"}


class Env:
    DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
    HEALTH_AI_PROBE_TTL_SECONDS = "60"

    def __init__(self, row=None):
        self.DB = Database({"ok": 1} if row is None else row)
        self.CACHE = KeyValue()
        self.ARCHIVE = Bucket()
        self.ANALYTICS = Analytics()
        self.AI = Model()


@pytest.fixture(autouse=True)
def fresh_probe_memo():
    health._last_ai_probe.update(at=None, status=None)


def test_all_bindings_answering_is_ok():
    report = asyncio.run(health.check_bindings(Env(), "req-1"))

    assert report.ok
    assert set(report.bindings) == {"DB", "CACHE", "ARCHIVE", "ANALYTICS", "AI"}
    assert report.request_id == "req-1"


def test_a_wrong_answer_marks_only_that_binding_down():
    report = asyncio.run(health.check_bindings(Env(row={"ok": 0}), "req-2"))

    assert not report.ok
    assert not report.bindings["DB"].ok
    assert "SELECT 1" in report.bindings["DB"].error
    assert all(status.ok for name, status in report.bindings.items() if name != "DB")


def test_the_ai_probe_runs_at_most_once_per_ttl():
    env = Env()

    async def twice():
        await health.check_bindings(env, "a")
        await health.check_bindings(env, "b")

    asyncio.run(twice())

    assert env.AI.calls == 1
