"""Guardrails on a host whose pro tier has its prompts checked and its enterprise tier its
answers: the moderation model (the stand-in flags a marker word) blocks a prompt with a 400
`content_blocked` naming the category, an answer by ending its stream with an error part; each
check is recorded with its latency and cost, and the blocks are counted in GraphQL."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import HOST_VARIABLES, key_creator
from tests.inprocess.conftest import INPROCESS_VARIABLES
from tests.inprocess.host import ORIGIN, InProcessHost
from tests.stream_failures import assert_error

MODERATION_MODEL = "@cf/meta/llama-guard-3-8b"
MARKER = "unsafe-marker"
GUARDRAILS = {"tiers": {"pro": ["prompt"], "enterprise": ["answer"]}}


def chat_body(text: str) -> dict:
    return {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}]}


@pytest.fixture(scope="module")
def guarded():
    """The host, and a client for each tier: pro (prompts checked) and enterprise (answers checked)."""
    running = InProcessHost({**INPROCESS_VARIABLES, "GUARDRAILS": json.dumps(GUARDRAILS)})
    with httpx.Client(base_url=ORIGIN, transport=running.transport()) as anonymous:
        create = key_creator(anonymous, HOST_VARIABLES["ADMIN_TOKEN"])
        keys = {tier: create(tier)["key"] for tier in ("pro", "enterprise")}
    clients = {tier: httpx.Client(base_url=ORIGIN, transport=running.transport(), headers={"authorization": f"Bearer {key}"})
               for tier, key in keys.items()}
    yield running, clients
    for client in clients.values():
        client.close()
    running.close()


@pytest.fixture
def host_and_clients(guarded):
    running, clients = guarded
    running.ai.reset()
    return running, clients


def this_week() -> dict[str, str]:
    now = datetime.now(UTC)  # the host's clock starts at the real time and is not advanced here
    return {"from": (now - timedelta(days=3)).isoformat(), "to": (now + timedelta(days=3)).isoformat()}


def blocks(client: httpx.Client) -> dict[str, float]:
    query = "query($r: TimeRange!) { eventMetrics(metric: GUARDRAIL_BLOCKS, range: $r, bucket: DAY) { totals { key value } } }"
    answer = client.post("/graphql", json={"query": query, "variables": {"r": this_week()}}).json()
    return {t["key"]: t["value"] for t in answer["data"]["eventMetrics"]["totals"]}


def test_a_flagged_prompt_is_a_400_naming_its_category_and_no_model_answers_it(host_and_clients):
    host, clients = host_and_clients
    before = blocks(clients["pro"]).get("prompt", 0)

    error = assert_error(clients["pro"].post("/stream/chat", json=chat_body(f"tell me about {MARKER}")), 400, "content_blocked")

    assert "S1 (violent crimes)" in error["message"]
    assert error["categories"] == ["S1"] and error["stage"] == "prompt"
    assert [c["model"] for c in host.ai.calls()] == [MODERATION_MODEL]
    assert blocks(clients["pro"]).get("prompt") == before + 1


def test_a_clean_prompt_is_checked_then_answered(host_and_clients):
    host, clients = host_and_clients

    response = clients["pro"].post("/stream/chat", json=chat_body("hello there"))

    assert response.status_code == 200 and '"type":"finish"' in response.text
    assert [c["model"] for c in host.ai.calls()] == [MODERATION_MODEL, "@cf/meta/llama-3.1-8b-instruct-fast"]


def test_a_flagged_answer_ends_its_stream_with_an_error_part(host_and_clients):
    host, clients = host_and_clients
    before = blocks(clients["enterprise"]).get("answer", 0)

    # Prompts are not checked for this tier: the stand-in's answer repeats the marker.
    response = clients["enterprise"].post("/stream/chat", json=chat_body(f"say {MARKER}"))

    assert response.status_code == 200
    parts = [json.loads(e.removeprefix("data: ")) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]
    assert any(p["type"] == "text-delta" for p in parts)
    assert parts[-1]["type"] == "error" and "answer was blocked" in parts[-1]["errorText"] and "S1" in parts[-1]["errorText"]
    assert not [p for p in parts if p["type"] == "finish"]
    assert blocks(clients["enterprise"]).get("answer") == before + 1


def test_a_flagged_whole_answer_is_refused(host_and_clients):
    _, clients = host_and_clients
    body = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": f"say {MARKER}"}]}

    error = assert_error(clients["enterprise"].post("/v1/chat/completions", json=body), 400, "content_blocked")

    assert error["stage"] == "answer"


def test_each_check_is_recorded_with_its_latency_and_cost(host_and_clients):
    host, clients = host_and_clients
    clients["pro"].post("/stream/chat", json=chat_body("count this check"))

    rows = host.inference_env.DB.rows("SELECT outcome, latency_ms, cost_usd, prompt_tokens FROM ai_calls "
                                      f"WHERE kind = 'moderation' AND model = '{MODERATION_MODEL}' ORDER BY rowid DESC LIMIT 1")

    outcome, latency_ms, cost_usd, prompt_tokens = rows[0]
    assert outcome == "ok" and latency_ms >= 0 and prompt_tokens > 0
    assert cost_usd == pytest.approx(prompt_tokens * 0.48 / 1e6 + 1 * 0.03 / 1e6)
