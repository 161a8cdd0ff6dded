"""The deploy configs promise what the architecture needs: a private inference worker that
only the api worker's service binding reaches, and smart placement for both."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = tomllib.loads((ROOT / "wrangler.toml").read_text())
INFERENCE = tomllib.loads((ROOT / "inference_worker" / "wrangler.toml").read_text())


def test_inference_worker_has_no_public_surface():
    assert INFERENCE["name"] == "inference-service"
    assert "route" not in INFERENCE and "routes" not in INFERENCE
    assert INFERENCE["workers_dev"] is False
    assert INFERENCE["preview_urls"] is False


def test_inference_worker_has_every_binding():
    assert INFERENCE["ai"]["binding"] == "AI"
    assert [d["binding"] for d in INFERENCE["d1_databases"]] == ["DB"]
    assert [k["binding"] for k in INFERENCE["kv_namespaces"]] == ["CACHE"]
    assert [r["binding"] for r in INFERENCE["r2_buckets"]] == ["ARCHIVE"]
    assert [a["binding"] for a in INFERENCE["analytics_engine_datasets"]] == ["ANALYTICS"]


def test_api_worker_reaches_inference_only_through_the_service_binding():
    assert API["name"] == "inference-ui-api"
    assert API["services"] == [
        {"binding": "INFERENCE", "service": "inference-service", "entrypoint": "InferenceService"}
    ]
    for storage in ("ai", "d1_databases", "kv_namespaces", "r2_buckets", "analytics_engine_datasets"):
        assert storage not in API


def test_both_workers_are_python_workers_with_smart_placement():
    for config in (API, INFERENCE):
        assert "python_workers" in config["compatibility_flags"]
        assert config["compatibility_date"] >= "2026-09-08"  # Python 3.14 by default from here
        assert config["placement"] == {"mode": "smart"}
