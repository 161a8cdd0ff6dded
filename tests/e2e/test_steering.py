"""On workerd, a host with guardrails (the pro tier's prompts, the free tier's answers) and a
90/10 traffic split of llama-3.1-8b, sticky per conversation: the marker prompt is a 400
`content_blocked`, the marker in an answer ends its stream with an error part, both counted; 1,000
conversations: 850-950 on arm A, and GraphQL's per-arm metrics read them."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import FRESH_CONNECTIONS, TEST_ADMIN_TOKEN, HostControl, host_only, key_creator
from tests.stream_failures import assert_error

pytestmark = host_only

MARKER = "unsafe-marker"  # what the stand-in's moderation model flags (local/ai.mjs)
A, B = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CONVERSATIONS = 1_000


@pytest.fixture(scope="module")
def steering(steering_host):
    """A client per tier on the steering host (enterprise: no checks), and its stand-in's control."""
    url = steering_host.url
    with httpx.Client(base_url=url, timeout=30, limits=FRESH_CONNECTIONS) as anonymous:
        create = key_creator(anonymous, TEST_ADMIN_TOKEN)
        keys = {tier: create(tier, f"steering-{tier}")["key"] for tier in ("free", "pro", "enterprise")}
        clients = {tier: httpx.Client(base_url=url, timeout=30, headers={"authorization": f"Bearer {key}"}) for tier, key in keys.items()}
        control = HostControl(anonymous)
        control.reset()
        yield clients, control
        for client in clients.values():
            client.close()


def metric_totals(client: httpx.Client, metric: str, split: str | None = None) -> dict[str, float]:
    now = datetime.now(UTC)
    query = "query($m: Metric!, $r: TimeRange!, $f: MetricFilter) { eventMetrics(metric: $m, range: $r, bucket: DAY, filter: $f) { totals { key value } } }"
    variables = {"m": metric, "r": {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()},
                 "f": {"split": split} if split else None}
    answer = client.post("/graphql", json={"query": query, "variables": variables}).json()
    return {t["key"]: t["value"] for t in answer["data"]["eventMetrics"]["totals"]}


def chat_body(text: str) -> dict:
    return {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}]}


def test_the_marker_prompt_is_a_400_content_blocked_and_counted(steering):
    clients, control = steering
    control.reset()

    error = assert_error(clients["pro"].post("/stream/chat", json=chat_body(f"tell me about {MARKER}")), 400, "content_blocked")

    assert "S1 (violent crimes)" in error["message"] and error["stage"] == "prompt"
    assert [c["model"] for c in control.calls()] == ["@cf/meta/llama-guard-3-8b"]  # no model answered it
    assert metric_totals(clients["pro"], "GUARDRAIL_BLOCKS") == {"prompt": 1}


def test_the_marker_in_an_answer_ends_the_stream_with_an_error_part_and_is_counted(steering):
    clients, _ = steering

    response = clients["free"].post("/stream/chat", json=chat_body(f"say {MARKER}"))

    assert response.status_code == 200
    parts = [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]
    assert any(p["type"] == "text-delta" for p in parts)
    assert parts[-1]["type"] == "error" and "answer was blocked" in parts[-1]["errorText"]
    assert metric_totals(clients["free"], "GUARDRAIL_BLOCKS") == {"answer": 1}


def test_a_90_10_split_over_1000_conversations_with_metrics_per_arm(steering):
    client = steering[0]["enterprise"]

    served = Counter()
    for i in range(CONVERSATIONS):
        body = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": f"conversation {i}"}], "max_tokens": 4}
        response = client.post("/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        served[response.headers["x-model"]] += 1

    assert 850 <= served[A] <= 950, served
    assert served[A] + served[B] == CONVERSATIONS
    assert metric_totals(client, "REQUESTS_BY_ARM", "canary") == {"A": served[A], "B": served[B]}
    assert metric_totals(client, "ERRORS_BY_ARM", "canary") == {"A": 0, "B": 0}
    for metric in ("LATENCY_BY_ARM", "TOKENS_BY_ARM", "COST_BY_ARM"):
        totals = metric_totals(client, metric, "canary")
        assert set(totals) == {"A", "B"} and min(totals.values()) > 0, (metric, totals)
