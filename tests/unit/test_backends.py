"""The backend pool's arithmetic (api/backends.py), what the api's client of the service
(api/inference_client.py) reports to it, and the generator of its bindings (scripts/bindings.py):
plain Python, no runtime."""

import asyncio
import subprocess
import sys
import tomllib
from collections import Counter
from types import SimpleNamespace

import pytest

from api.backends import BackendPool, backend_names
from api.inference_client import InferenceClient
from scripts import bindings
from scripts.bindings import PROJECT_ROOT
from shared.contract import Caller, ServiceFailure
from shared.documents import DocumentRef
from shared.errors import ApiError, ErrorCode
from shared.rpc import encode_failure


def circuits(pool: BackendPool, now: float) -> dict[str, str]:
    """Each backend's circuit at `now`: closed, open or half_open."""
    return {name: breaker.state(now, pool.cooldown_seconds) for name, breaker in pool.breakers.items()}


def test_backends_are_the_inference_bindings_numbered_without_a_gap():
    bound = {"INFERENCE", "INFERENCE_2", "INFERENCE_3", "INFERENCE_5", "OTHER"}

    assert backend_names(bound.__contains__) == ("INFERENCE", "INFERENCE_2", "INFERENCE_3")
    assert backend_names(set().__contains__) == ()
    with pytest.raises(ValueError, match="INFERENCE"):
        BackendPool(())


def test_requests_go_round_robin_with_the_others_as_failover():
    pool = BackendPool(("A", "B", "C"))

    plans = [pool.plan(0) for _ in range(6)]

    assert plans[:3] == [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]]
    assert Counter(plan[0] for plan in plans) == {"A": 2, "B": 2, "C": 2}


def test_a_backend_failing_in_a_row_is_taken_out_until_its_cool_down_then_probed_once():
    pool = BackendPool(("A", "B"), failure_threshold=3, cooldown_seconds=30)
    pool.failed("B", 1)
    pool.failed("B", 2)
    assert circuits(pool, 2)["B"] == "closed"  # two failures: still in

    pool.failed("B", 3)

    assert circuits(pool, 3) == {"A": "closed", "B": "open"}
    assert [pool.plan(10) for _ in range(2)] == [["A"], ["A"]]
    # The cool-down is over: the next request probes B first, with A behind it; only that one.
    assert pool.plan(33) == ["B", "A"]
    assert pool.plan(34) == ["A"]
    pool.succeeded("B")
    assert circuits(pool, 35) == {"A": "closed", "B": "closed"}


def test_a_failed_probe_opens_the_circuit_for_another_whole_cool_down():
    pool = BackendPool(("A", "B"), failure_threshold=1, cooldown_seconds=30)
    pool.failed("B", 0)
    assert pool.plan(31)[0] == "B"

    pool.failed("B", 31)

    assert circuits(pool, 60)["B"] == "open" and circuits(pool, 61)["B"] == "half_open"


def test_a_success_resets_the_count_of_failures_in_a_row():
    pool = BackendPool(("A",), failure_threshold=2)
    pool.failed("A", 0)
    pool.succeeded("A")
    pool.failed("A", 1)

    assert circuits(pool, 1) == {"A": "closed"}


def test_with_every_circuit_open_every_backend_is_still_tried():
    pool = BackendPool(("A", "B"), failure_threshold=1, cooldown_seconds=30)
    pool.failed("A", 0)
    pool.failed("B", 0)

    assert sorted(pool.plan(1)) == ["A", "B"]


class _Backend:
    """A service binding whose `get_document` gives its next outcome: an exception (the binding
    throws), or a ServiceFailure the service answered, as it crosses the binding."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)

    async def get_document(self, ref: str, request_id: str) -> str:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return encode_failure(outcome, None)


BROKEN = RuntimeError("Error: D1_ERROR: the database is unavailable")
NO_SUCH_DOCUMENT = ServiceFailure(code=ErrorCode.NOT_FOUND, message="No document d1", reason="document_not_found")
RATE_LIMITED = ServiceFailure(code=ErrorCode.RATE_LIMITED, message="Over the limit", retry_after=3)
OVERLOADED = ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE, message="Capacity", retry_after=1)


def _requests(pool: BackendPool, backend: _Backend, count: int) -> list[int]:
    """`count` requests, each one call to the service; the status each was answered with."""
    statuses = []
    for number in range(count):
        client = InferenceClient(SimpleNamespace(A=backend), pool, f"r{number}", 1_000)
        with pytest.raises(ApiError) as refused:
            asyncio.run(client.get_document(DocumentRef(request_id=f"r{number}", caller=Caller(key_id="k"), document_id="d1")))
        statuses.append(refused.value.status)
    return statuses


def test_a_clients_mistake_answered_by_a_backend_counts_for_it_not_against_it():
    pool = BackendPool(("A",), failure_threshold=3, cooldown_seconds=30)
    # Failures in a row are what open a circuit: a backend that answers a 404 or a 429 in between works.
    backend = _Backend(BROKEN, BROKEN, NO_SUCH_DOCUMENT, BROKEN, BROKEN, RATE_LIMITED, BROKEN, OVERLOADED)

    assert _requests(pool, backend, 8) == [502, 502, 404, 502, 502, 429, 502, 503]
    assert circuits(pool, 0) == {"A": "closed"}
    assert pool.breakers["A"].failures == 2


def test_a_probe_answered_with_a_clients_mistake_closes_the_circuit():
    pool = BackendPool(("A",), failure_threshold=1, cooldown_seconds=30)
    pool.failed("A", 0)

    assert _requests(pool, _Backend(NO_SUCH_DOCUMENT), 1) == [404]
    assert circuits(pool, 31) == {"A": "closed"}


def test_the_generator_binds_each_listed_worker_and_round_trips(tmp_path):
    listing = tmp_path / "backends.txt"
    listing.write_text("# comment\ninference-service\n\ninference-eu  # the EU account\ninference-big\n")
    config = tmp_path / "wrangler.toml"
    config.write_text((PROJECT_ROOT / "wrangler.toml").read_text())
    run = [sys.executable, str(PROJECT_ROOT / "scripts" / "bindings.py"), "--backends", str(listing), "--config", str(config)]

    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 1
    subprocess.run(run, check=True, capture_output=True)
    written = config.read_text()
    subprocess.run(run, check=True, capture_output=True)  # idempotent

    assert config.read_text() == written
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 0
    services = tomllib.loads(written)["services"]
    assert [(s["binding"], s["service"], s["entrypoint"]) for s in services] == [
        ("INFERENCE", "inference-service", "InferenceService"),
        ("INFERENCE_2", "inference-eu", "InferenceService"),
        ("INFERENCE_3", "inference-big", "InferenceService"),
    ]
    # Back to one line: the rest of the file is as it was.
    listing.write_text("inference-service\n")
    subprocess.run(run, check=True, capture_output=True)
    assert config.read_text() == (PROJECT_ROOT / "wrangler.toml").read_text()


def test_the_committed_config_binds_the_committed_list():
    names = bindings.read_backends(PROJECT_ROOT / "backends.txt")

    assert bindings.with_block((PROJECT_ROOT / "wrangler.toml").read_text(), names) == (PROJECT_ROOT / "wrangler.toml").read_text()


@pytest.mark.parametrize("listing, problem", [("", "at least one"), ("Inference\n", "not a worker name"),
                                               ("a\na\n", "listed twice")])
def test_a_bad_list_is_refused_with_its_line(tmp_path, listing, problem):
    path = tmp_path / "backends.txt"
    path.write_text(listing)

    with pytest.raises(SystemExit, match=problem):
        bindings.read_backends(path)
