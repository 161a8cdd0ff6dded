"""make dev's host restored from the baseline snapshot it keeps between starts serves both workers
as without it: their top level still runs (a baseline holds the runtime only).

Each worker as Cloudflare starts it: its dedicated memory snapshot saved after its top level ran
(scripts/snapshots.py: the flag python_dedicated_snapshot in both the saving and the loading
process), then restored in a process of its own; the api reaches the inference worker over JS RPC
between the two processes. A top level that breaks the save (entropy, I/O, a JS object made by a
call) or a snapshot that does not restore fails here."""

import httpx

from scripts.snapshots import dev_baseline, dev_host, snapshot_type, start_pair
from tests.e2e.conftest import host_only


@host_only
def test_each_worker_restored_from_its_dedicated_snapshot_answers_health(tmp_path):
    # "dedicated-alone": the dedicated snapshot without the baseline underneath (one process less
    # to save each; scripts/snapshots.py's "dedicated" stacks it on a baseline as deploy does).
    # /health reads no table: no D1 migrations (a wrangler run) needed.
    with start_pair("dedicated-alone", tmp_path, variables={"ADMIN_TOKEN": "snapshot-test-admin"}, migrate=False) as (api, _):
        for worker in ("api", "inference"):
            assert snapshot_type(tmp_path / f"{worker}-dedicated-alone.bin") == "dedicated", worker
        health = httpx.get(f"{api.url}/health", timeout=30)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok"
    assert body["inference"]["ok"] is True  # the inference worker's RPC health, from its own restored process


@host_only
def test_make_devs_host_restored_from_its_kept_baseline_serves_both_workers(tmp_path):
    baseline = dev_baseline(tmp_path / "snapshots")
    saved = baseline.stat().st_mtime_ns
    assert snapshot_type(baseline) == "baseline"
    assert dev_baseline(tmp_path / "snapshots") == baseline and baseline.stat().st_mtime_ns == saved  # kept, not saved again

    admin = "snapshot-test-admin"
    # /health and the admin's GraphQL read no table: no D1 migrations (a wrangler run) needed.
    with dev_host(tmp_path / "state", baseline, {"ADMIN_TOKEN": admin}, migrations="never") as host:
        host.wait_until_ready()
        health = httpx.get(f"{host.url}/health", timeout=30)
        models = httpx.post(f"{host.url}/graphql", json={"query": "{ models { id } }"},
                            headers={"authorization": f"Bearer {admin}"}, timeout=60)
    assert health.status_code == 200 and health.json()["inference"]["ok"] is True, health.text
    assert models.status_code == 200 and models.json()["data"]["models"], models.text
