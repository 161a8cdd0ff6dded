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


def test_the_api_sends_event_batches_only_to_the_queue_the_inference_worker_consumes_in_every_environment():
    for api, inference in ((API, INFERENCE), (API["env"]["staging"], INFERENCE["env"]["staging"]),
                           (API["env"]["production"], INFERENCE["env"]["production"])):
        assert api["queues"] == {"producers": [{"binding": "EVENT_QUEUE", "queue": inference["queues"]["consumers"][0]["queue"]}]}
        assert api["queues"]["producers"][0] in inference["queues"]["producers"]  # the same queue, under the same name


def test_both_workers_are_python_workers_with_smart_placement():
    for config in (API, INFERENCE):
        assert "python_workers" in config["compatibility_flags"]
        assert config["compatibility_date"] >= "2026-09-08"  # Python 3.14 by default from here
        assert config["placement"] == {"mode": "smart"}


BINDING_LISTS = ("d1_databases", "kv_namespaces", "r2_buckets", "analytics_engine_datasets", "vectorize")


def test_staging_and_production_are_whole_environments_of_their_own():
    for env, suffix in (("staging", "-staging"), ("production", "")):
        api, inference = API["env"][env], INFERENCE["env"][env]
        assert (api["name"], inference["name"]) == (f"inference-ui-api{suffix}", f"inference-service{suffix}")
        assert api["services"][0]["service"] == f"inference-service{suffix}"
        # Every var in every environment (wrangler does not inherit vars), with its own ENVIRONMENT.
        assert set(api["vars"]) >= set(API["vars"]) and set(inference["vars"]) >= set(INFERENCE["vars"])
        assert api["vars"]["ENVIRONMENT"] == inference["vars"]["ENVIRONMENT"] == env
        assert api["vars"]["ALLOWED_ORIGINS"] == ""  # no localhost origins once deployed
        # Its own bindings, all of them, and no placeholder ids: the first deploy creates them by name.
        for binding_list in BINDING_LISTS:
            assert [b["binding"] for b in inference[binding_list]] == [b["binding"] for b in INFERENCE[binding_list]]
            assert not any("id" in b or "database_id" in b for b in inference[binding_list])
        assert inference["vars"]["EVENT_DEAD_LETTER_QUEUE"] == inference["queues"]["consumers"][0]["dead_letter_queue"]
    staging, production = INFERENCE["env"]["staging"], INFERENCE["env"]["production"]
    for binding_list, field in (("d1_databases", "database_name"), ("r2_buckets", "bucket_name"), ("vectorize", "index_name"),
                                ("analytics_engine_datasets", "dataset")):
        assert staging[binding_list][0][field] != production[binding_list][0][field]
    assert staging["queues"]["producers"][0]["queue"] != production["queues"]["producers"][0]["queue"]


def test_development_is_the_top_level_and_says_so():
    assert API["vars"]["ENVIRONMENT"] == INFERENCE["vars"]["ENVIRONMENT"] == "development"


def test_both_workers_record_traces_at_a_sampling_rate_in_every_environment():
    # [observability] is inherited by every environment (wrangler's rule): one block a config.
    for config in (API, INFERENCE):
        assert config["observability"]["enabled"] is True
        traces = config["observability"]["traces"]
        assert traces["enabled"] is True and 0 < traces["head_sampling_rate"] <= 1
        for environment in config["env"].values():
            assert "observability" not in environment
