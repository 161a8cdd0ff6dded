"""make dev's host (and the test hosts, started as it is) restored from the baseline snapshot it
keeps between starts: their top level still runs (a baseline holds the runtime only).

Each worker as Cloudflare starts it: its dedicated memory snapshot saved after its top level ran
(scripts/snapshots.py: the flag python_dedicated_snapshot in both the saving and the loading
process), then restored in a process of its own; the api reaches the inference worker over JS RPC
between the two processes. A top level that breaks the save (entropy, I/O, a JS object made by a
call) or a snapshot that does not restore fails here (conftest's RestoredPair, started with the
run's other hosts)."""

import httpx

from scripts.snapshots import dev_baseline, snapshot_type
from tests.e2e.conftest import host_only


@host_only
def test_each_worker_restored_from_its_dedicated_snapshot_answers_health(restored_pair):
    for worker in ("api", "inference"):
        assert snapshot_type(restored_pair.directory / f"{worker}-dedicated-alone.bin") == "dedicated", worker
    health = httpx.get(f"{restored_pair.api.url}/health", timeout=30)

    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok"
    assert body["inference"]["ok"] is True  # the inference worker's RPC health, from its own restored process


@host_only
def test_a_second_isolate_of_each_worker_restored_in_the_same_process_answers_health(restored_pair):
    # make bench's first requests in fresh isolates of warm processes go through these twins.
    health = httpx.get(f"{restored_pair.api.twin_url}/health", timeout=30)

    assert health.status_code == 200, health.text
    assert health.json()["inference"]["ok"] is True  # the inference worker's twin, over its own RPC socket


@host_only
def test_the_test_host_runs_as_make_dev_from_its_kept_baseline(host):
    # Every other end-to-end test runs on this host: make dev's baseline, restored with both
    # workers' top level run after it, serves all they ask.
    assert host.snapshot is not None, "the kept baseline snapshot could not be saved"
    saved = host.snapshot.stat().st_mtime_ns
    assert snapshot_type(host.snapshot) == "baseline"
    assert dev_baseline() == host.snapshot and host.snapshot.stat().st_mtime_ns == saved  # kept, not saved again
    assert httpx.get(f"{host.url}/health", timeout=30).json()["inference"]["ok"] is True
