"""POST /events: per-event validation, idempotent retries, durability before the answer, the
replay of batches D1 could not index, and analytics that match what was sent."""

import time

import pytest

from tests.e2e.conftest import needs_faults
from tests.events_caller import Caller

HOUR_MS = 3_600_000


@pytest.fixture
def caller(anonymous, new_key):
    created = new_key("pro")
    return Caller(anonymous, created["key"], created["id"])


@needs_faults
def test_a_varied_batch_with_free_text_stays_within_analytics_engines_25_writes(caller, control):
    control.client.delete("/__devhost/analytics")
    batch = [{"type": f"kind{i}", "component": f"C{i}"} for i in range(24)]
    batch += [{"type": "feedback", "component": f"F{i}", "properties": {"text": f"note {i}: I like it"}} for i in range(7)]
    assert caller.post("/events", json=batch).json()["accepted"] == 31

    deadline = time.monotonic() + 10
    while True:  # the labels come after the answer, in the same invocation
        points = control.client.get("/__devhost/analytics").json()["points"]
        labels = [p for p in points if p["blobs"][1] == "enrichment"]
        if len(labels) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    event_points = [p for p in points if p["blobs"][0] == "event"]
    assert len(event_points) == 20 and sum(p["doubles"][0] for p in event_points) == 31
    assert len(labels) == 5  # EVENTS_ENRICHMENT_MAX_PER_BATCH's default: 20 + 5 writes


@needs_faults
def test_analytics_engine_gets_counted_points_for_events_and_one_per_model_call(caller, control):
    control.client.delete("/__devhost/analytics")
    caller.post("/events", json=[{"type": "view", "component": "A"}] * 3 + [{"type": "click", "component": "B"}])
    caller.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hi"}]}]})
    deadline = time.monotonic() + 10
    while True:  # the events' points come as the queue consumer indexes them, the call's once its stream has ended
        points = [p for p in control.client.get("/__devhost/analytics").json()["points"] if p["indexes"] == [caller.key_id]]
        counted = sum(p["doubles"][0] for p in points if p["blobs"][0] == "event")
        if (counted == 4 and any(p["blobs"][1] == "chat" for p in points)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    events = sorted((p["blobs"][1], p["blobs"][2], p["doubles"][0]) for p in points if p["blobs"][0] == "event")
    # An earlier test's enrichment call may land its point late; this test counts chat calls.
    calls = [p for p in points if p["blobs"][0] == "@cf/meta/llama-3.1-8b-instruct-fast" and p["blobs"][1] != "enrichment"]
    assert events == [("click", "B", 1), ("view", "A", 3)]
    assert [(c["blobs"][1], c["blobs"][2]) for c in calls] == [("chat", "ok")]
    assert calls[0]["doubles"][0] >= calls[0]["doubles"][1] > 0  # latency, then time to first token
    # Which backend served (no failover), who ran the model, at what cost, on no traffic split's arm.
    assert calls[0]["blobs"][4:] == ["INFERENCE", "workers-ai", "", ""]
    assert calls[0]["doubles"][4] == 0 and calls[0]["doubles"][5] > 0
    assert all(len(p["indexes"]) == 1 for p in points)


def test_the_cron_trigger_runs_the_replay_handler(control):
    control.fire_cron()  # workerd calls scheduled(controller, env, ctx): a narrower signature fails


@needs_faults
def test_metrics_are_answered_from_d1_while_kv_fails(caller, control):
    now = int(time.time() * 1000)
    assert caller.send([{"type": "kv-down"}, {"type": "kv-down"}])["indexed"]
    control.fault("inference-service.CACHE.get", "KV unavailable", count=10)
    control.fault("inference-service.CACHE.put", "KV unavailable", count=10)

    answer = caller.metrics("EVENTS_BY_TYPE", now - HOUR_MS, now + HOUR_MS)

    assert answer["totals"] == [{"key": "kv-down", "value": 2.0}]
    assert answer["cached"] is False
