"""shared/sdk.py reads attributes private to the Python Workers SDK to reach the runtime's own
objects behind its wrappers. These tests wrap stand-ins with the pinned SDK's own code, as the
runtime would (its entrypoint classes and queue handler), and fail when an SDK upgrade renames
or drops what the bypasses read: the bypasses would otherwise fall back to the wrapper itself
silently, and every binding call would pay the wrapper's conversions again."""

import asyncio
import importlib
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from shared.isolate import PerIsolate
from shared.sdk import runtime_batch, runtime_ctx, runtime_env

ROOT = Path(__file__).resolve().parents[2]
SDK = "workers-runtime-sdk"
# What the SDK imports from the runtime at import time; the wrappers read none of it.
RUNTIME_MODULES = ("js", "_cloudflare_compat_flags", "_pyodide_entrypoint_helper")


def pinned_version(pyproject: Path) -> str:
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return next(re.sub(rf"^{SDK}==", "", spec) for spec in dependencies if spec.startswith(f"{SDK}=="))


@pytest.fixture
def workers(monkeypatch):
    """The SDK as installed (the version both workers pin), imported whatever `workers` a test
    put in sys.modules before, and taken out again afterwards."""
    # The in-process tests' stand-ins of the SDK and of pyodide (tests/inprocess/sdk.py) put aside.
    for name in [name for name in sys.modules if name.split(".")[0] in ("workers", "pyodide")]:
        monkeypatch.delitem(sys.modules, name)
    for name in RUNTIME_MODULES:
        monkeypatch.setitem(sys.modules, name, MagicMock(name=name))
    before = set(sys.modules)
    sdk = importlib.import_module("workers")
    yield sdk
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_the_sdk_tested_here_is_the_one_both_workers_pin(workers):
    installed = importlib.metadata.distribution(SDK)

    assert pinned_version(ROOT / "pyproject.toml") == pinned_version(ROOT / "inference_worker" / "pyproject.toml") == installed.version
    assert Path(workers.__file__).resolve() == Path(installed.locate_file("workers/__init__.py")).resolve()


def test_the_runtime_env_is_found_behind_the_env_an_entrypoint_is_given(workers):
    runtime_env_object = SimpleNamespace(MODEL_ATTEMPTS="3")

    class Service(workers.WorkerEntrypoint):
        pass

    first, second = Service(MagicMock(), runtime_env_object), Service(MagicMock(), runtime_env_object)

    assert first.env is not runtime_env_object  # the SDK's wrapper, made anew for each call
    assert runtime_env(first.env) is runtime_env(second.env) is runtime_env_object
    kept = PerIsolate(lambda env: object())
    assert kept(first.env) is kept(second.env)  # so per-isolate state survives the wrappers


def test_the_runtime_batch_is_found_behind_the_batch_a_queue_handler_is_given(workers):
    runtime_message_batch = SimpleNamespace(queue="events", messages=[])
    seen = []

    class Consumer(workers.WorkerEntrypoint):
        async def queue(self, batch, _env=None, _ctx=None):
            seen.append(batch)

    asyncio.run(Consumer(MagicMock(), SimpleNamespace()).queue(runtime_message_batch))

    assert seen[0] is not runtime_message_batch
    assert runtime_batch(seen[0]) is runtime_message_batch


def test_the_durable_object_state_is_found_behind_the_ctx_a_durable_object_is_given(workers):
    runtime_state = SimpleNamespace(storage=SimpleNamespace(sql="the runtime's SqlStorage"))

    class Counter(workers.DurableObject):
        pass

    counter = Counter(runtime_state, SimpleNamespace())

    assert counter.ctx is not runtime_state
    assert runtime_ctx(counter.ctx) is runtime_state


def test_a_tests_stand_ins_are_their_own_runtime_objects():
    env, batch, ctx = SimpleNamespace(), SimpleNamespace(messages=[]), SimpleNamespace()

    assert (runtime_env(env), runtime_batch(batch), runtime_ctx(ctx)) == (env, batch, ctx)
    assert runtime_env(None) is None  # no __dict__: as it is
