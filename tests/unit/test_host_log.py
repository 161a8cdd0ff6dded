"""What the fuzzer learns from a local host's log: how often the runtime died, and where."""

import subprocess
import sys

import pytest

from scripts.localhost import CONFIGS, LocalHost

# What workerd under miniflare printed when a JWT's 5,000-deep header reached json.loads.
CRASH = """\
Pyodide has suffered a fatal error. Please report this to the Pyodide maintainers.
The cause of the fatal error was:
RangeError: Maximum call stack size exceeded
    at wasm://wasm/0249d42a:wasm-function[14534]:0x59332a
Stack (most recent call first):
  File "/lib/python314.zip/json/decoder.py", line 361 in raw_decode
  File "/lib/python314.zip/json/__init__.py", line 352 in loads
  File "/session/metadata/shared/jwt.py", line 51 in decode
  File "/session/metadata/api/auth.py", line 91 in caller_from_jwt
*** Fatal uncaught kj::Exception: workerd/server/server/bridge.rs:929: failed: abortIsolate() called, terminating process
[mf:warn] The Workers runtime crashed unexpectedly and is being restarted (crash #1). Any additional runtime output above may indicate the cause."""


@pytest.fixture
def host(tmp_path):
    local = LocalHost(CONFIGS, tmp_path)
    local.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield local
    local.process.kill()
    local.process.wait()


def test_a_host_that_never_crashed_counts_no_restart(host):
    host.lines = ["[workerd-host] Ready on http://127.0.0.1:8787", "[mf:info] GET /health 200 OK (5ms)"]

    assert (host.runtime_restarts(), host.crash_sites()) == (0, [])


def test_each_crash_is_a_restart_named_by_the_project_frame_it_died_in(host):
    host.lines = [*CRASH.splitlines(), "[mf:info] GET /health 200 OK (5ms)", *CRASH.replace("crash #1", "crash #2").splitlines()]

    assert host.runtime_restarts() == 2
    assert host.crash_sites() == ["shared/jwt.py:51 in decode", "shared/jwt.py:51 in decode"]


def test_a_crash_whose_stack_shows_no_project_frame_is_not_given_the_next_ones(host):
    host.lines = ["Pyodide has suffered a fatal error.", "Stack (most recent call first):",
                  '  File "/lib/python314.zip/json/decoder.py", line 361 in raw_decode', *CRASH.splitlines()]

    assert host.crash_sites() == ["unknown", "shared/jwt.py:51 in decode"]


def test_a_host_process_that_ended_is_a_restart(host):
    host.process.kill()
    host.process.wait()
    host.lines = []

    assert host.runtime_restarts() == 1
