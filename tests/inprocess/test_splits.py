"""A 90/10 traffic split, sticky per conversation, over 1,000 conversations: about 900 go to arm A
(llama-3.1-8b, the requested model), the rest to arm B (llama-3.3-70b); each conversation stays on
its arm; GraphQL's per-arm metrics read the calls of each. In-process (both workers' pipeline on
CPython, the same code workerd runs): 1,000 requests end to end would take minutes here."""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import HOST_VARIABLES, key_creator
from tests.inprocess.conftest import INPROCESS_VARIABLES
from tests.inprocess.host import ORIGIN, InProcessHost

A, B = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SPLITS = [{"name": "canary", "models": ["llama-3.1-8b"], "sticky": "conversation",
           "arms": [{"name": "A", "weight": 90}, {"name": "B", "weight": 10, "model": "llama-3.3-70b"}]}]
REQUESTS = 1_000


@pytest.fixture(scope="module")
def split_host():
    running = InProcessHost({**INPROCESS_VARIABLES, "TRAFFIC_SPLITS": json.dumps(SPLITS)})
    yield running
    running.close()


@pytest.fixture(scope="module")
def split_client(split_host):
    with httpx.Client(base_url=ORIGIN, transport=split_host.transport()) as anonymous:
        key = key_creator(anonymous, HOST_VARIABLES["ADMIN_TOKEN"])("enterprise")["key"]
    with httpx.Client(base_url=ORIGIN, transport=split_host.transport(), headers={"authorization": f"Bearer {key}"}) as client:
        yield client


def ask(client: httpx.Client, conversation: str) -> str:
    body = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": conversation}], "max_tokens": 8}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.headers["x-model"]


def arm_metrics(client: httpx.Client) -> dict[str, dict[str, float]]:
    now = datetime.now(UTC)
    query = """query($r: TimeRange!, $f: MetricFilter) {
      requests: eventMetrics(metric: REQUESTS_BY_ARM, range: $r, bucket: DAY, filter: $f) { totals { key value } }
      errors: eventMetrics(metric: ERRORS_BY_ARM, range: $r, bucket: DAY, filter: $f) { totals { key value } }
      latency: eventMetrics(metric: LATENCY_BY_ARM, range: $r, bucket: DAY, filter: $f) { totals { key value } }
      tokens: eventMetrics(metric: TOKENS_BY_ARM, range: $r, bucket: DAY, filter: $f) { totals { key value } }
      cost: eventMetrics(metric: COST_BY_ARM, range: $r, bucket: DAY, filter: $f) { totals { key value } }
    }"""
    variables = {"r": {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()},
                 "f": {"split": "canary"}}
    data = client.post("/graphql", json={"query": query, "variables": variables}).json()["data"]
    return {metric: {t["key"]: t["value"] for t in series["totals"]} for metric, series in data.items()}


def test_a_90_10_split_over_1000_conversations_and_its_metrics_per_arm(split_host, split_client):
    served = Counter(ask(split_client, f"conversation {i}: what is new?") for i in range(REQUESTS))

    assert set(served) == {A, B}
    assert 850 <= served[A] <= 950, served
    # Each call's Analytics Engine point names its split and arm.
    points = Counter(p["blobs"][7] for p in split_host.inference_env.ANALYTICS.points if p["blobs"][6] == "canary")
    assert points == {"A": served[A], "B": served[B]}
    metrics = arm_metrics(split_client)
    assert metrics["requests"] == {"A": served[A], "B": served[B]}
    assert metrics["errors"] == {"A": 0, "B": 0}
    assert metrics["latency"]["A"] >= 0 and metrics["latency"]["B"] >= 0
    assert set(metrics["tokens"]) == {"A", "B"} and min(metrics["tokens"].values()) > 0
    assert metrics["cost"]["B"] / served[B] > metrics["cost"]["A"] / served[A]  # B's model is the dearer


def test_a_conversation_stays_on_its_arm(split_client):
    first = [{"role": "user", "content": "conversation 7: what is new?"}]
    arms = set()
    for turn in range(5):
        body = {"model": "llama-3.1-8b", "max_tokens": 8,
                "messages": first + [{"role": "assistant", "content": f"answer {turn}"}, {"role": "user", "content": f"and {turn}?"}]}
        arms.add(split_client.post("/v1/chat/completions", json=body).headers["x-model"])

    assert arms == {ask(split_client, "conversation 7: what is new?")}


def test_a_model_outside_the_split_is_on_no_arm(split_client):
    body = {"model": "llama-4-scout", "messages": [{"role": "user", "content": "not split"}], "max_tokens": 8}

    assert split_client.post("/v1/chat/completions", json=body).headers["x-model"] == "@cf/meta/llama-4-scout-17b-16e-instruct"
