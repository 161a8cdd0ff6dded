"""Each worker's top level keeps the rules of the memory snapshot Cloudflare restores it from
(tests/top_level.py): no entropy, no clock read, no network, no JavaScript object made by a call;
and it leaves nothing to a fresh isolate's first request (a handler to import, a validator to
build). Run in a fresh interpreter, so that every module the top level imports runs under the guard."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.routes import router

ROOT = Path(__file__).resolve().parents[2]


def top_level(entry: Path) -> dict:
    run = subprocess.run([sys.executable, "-m", "tests.top_level", str(entry)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.stdout, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


WORKERS = ["api_worker/entry.py", "inference_worker/entry.py"]


@pytest.fixture(scope="module")
def workers() -> dict[str, dict]:
    return {entry: top_level(ROOT / entry) for entry in WORKERS}


@pytest.mark.parametrize("entry", WORKERS)
def test_a_workers_top_level_keeps_the_snapshot_rules(workers, entry):
    assert (workers[entry]["breaks"], workers[entry]["failure"]) == ([], None)


# What a fresh isolate restored from the snapshot would otherwise do on its first request
# (docs/architecture.md, "Top level and snapshot").
@pytest.mark.parametrize("entry", WORKERS)
def test_no_models_validator_is_left_to_build_in_a_request(workers, entry):
    assert workers[entry]["deferred_models"] == []


def test_every_routes_handler_is_imported_at_the_api_workers_top_level(workers):
    handlers = {route.handler.partition(":")[0] for route in router.routes()}
    assert handlers - set(workers["api_worker/entry.py"]["modules"]) == set()


@pytest.mark.parametrize(("statement", "rule"), [
    ("import os; KEY = os.urandom(16)", "entropy: os.urandom"),
    ("import uuid; ID = uuid.uuid4()", "entropy: os.urandom"),
    ("import secrets; TOKEN = secrets.token_hex(8)", "entropy: os.urandom"),
    ("import random; JITTER = random.random()", "entropy: random.random"),
    ("from random import choice; PICK = choice([1, 2])", "entropy: random.choice"),
    ("import random; RNG = random.Random()", "entropy: random.Random() without a seed"),
    ("import random; X = random.SystemRandom().random()", "entropy: os.urandom"),
    ("from time import time; STARTED = time()", "clock: time.time"),
    ("import time; STARTED = time.monotonic()", "clock: time.monotonic"),
    ("from datetime import UTC, datetime; STARTED = datetime.now(UTC)", "clock: datetime.now"),
    ("from datetime import date; TODAY = date.today()", "clock: date.today"),
    ("from js import Object; DEFAULTS = Object.fromEntries([('a', 1)])", "runtime call: _from_entries (a JS object or JS call)"),
    ("from pyodide.ffi import to_js; DEFAULTS = to_js({'a': 1})", "runtime call: to_js (a JS object or JS call)"),
    ("from workers import Response; EMPTY = Response('')", "runtime call: Response.__init__ (a JS object or JS call)"),
    ("import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)", "network: socket connect"),
])
def test_the_guard_refuses_each_break_even_in_an_import(tmp_path, statement, rule):
    (tmp_path / "helpers.py").write_text(statement + "\n")
    (tmp_path / "entry.py").write_text("import helpers\n")

    result = top_level(tmp_path / "entry.py")

    assert [found["rule"] for found in result["breaks"]] == [rule]
    assert "TopLevelBreak" in result["failure"]
    assert any("helpers.py:1" in place for place in result["breaks"][0]["at"])


def test_the_guard_allows_what_is_deterministic(tmp_path):
    (tmp_path / "entry.py").write_text(
        "import random, re, uuid\n"
        "SAMPLE = random.Random(7).random()\n"  # seeded: the same in every isolate, as meant
        "NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'x')\n"
        "from js import TransformStream\n"  # a global JS name, resolved again on restore
        "PATTERN = re.compile('a+')\n"
    )

    result = top_level(tmp_path / "entry.py")
    assert (result["breaks"], result["failure"]) == ([], None)
