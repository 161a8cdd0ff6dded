"""Provider routing (shared/routing.py): a generation that the rules send to the external
OpenAI-compatible provider (here the AI stand-in's OpenAI face, PROVIDER_URL on the test host)
streams to the AI SDK and OpenAI clients like any other, falls back to Workers AI when the
provider fails before its first token, and is priced at the provider's prices in the usage
report; a tier's daily budget stops its keys once spent."""

import time
from collections.abc import Callable

import httpx
import openai
import pytest

from tests.e2e.conftest import (
    TEST_PRO_DAILY_BUDGET_USD,
    TEST_PROVIDER,
    TEST_PROVIDER_COOLDOWN_SECONDS,
    TEST_PROVIDER_KEY,
    TEST_PROVIDER_MODEL,
)
from tests.e2e.sdk import message_text, run_client
from tests.e2e.test_ai_sdk import STAND_IN_REPLY

MAPPED = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # the one model PROVIDER_MODELS maps
USAGE_LOOKS, USAGE_LOOK_INTERVAL_S = 100, 0.05


def chat(text: str, **extra) -> dict:
    return {"model": "mistral-small-3.1", "messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": text}]}], **extra}


def landed_usage(caller: httpx.Client, landed: Callable[[dict], bool]) -> dict:
    """/v1/usage once `landed` says it counts what was sent: a streamed answer's usage report is
    written just after its end."""
    for _ in range(USAGE_LOOKS):
        usage = caller.get("/v1/usage").json()
        if landed(usage):
            return usage
        time.sleep(USAGE_LOOK_INTERVAL_S)
    return usage


def provider_calls(ai) -> list[dict]:
    return [call for call in ai.calls() if call["worker"] == "provider"]


def test_a_complex_request_streams_from_the_provider_to_the_ai_sdk(base_url, new_key, ai):
    key = new_key("pro", "providers-sdk")["key"]

    result = run_client("ai", base_url, "chat", key, text="route me", body={"model": "mistral-small-3.1", "complexity": "high"})

    assert result["errors"] == []
    assert message_text(result["message"]) == STAND_IN_REPLY.format("route me")
    assert result["message"]["metadata"]["provider"] == TEST_PROVIDER
    assert result["message"]["metadata"]["model"] == MAPPED
    [call] = provider_calls(ai)
    assert (call["providerModel"], call["bearer"], call["completed"]) == (TEST_PROVIDER_MODEL, TEST_PROVIDER_KEY, True)


def test_the_openai_client_streams_and_reads_a_provider_answer(base_url, new_key, ai):
    key = new_key("pro", "providers-openai")["key"]
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="mistral-small-3.1", messages=[{"role": "user", "content": "stream it"}],
                                             stream=True, stream_options={"include_usage": True}, extra_body={"complexity": "high"})
        chunks = list(stream)
        whole = sdk.chat.completions.with_raw_response.create(
            model="mistral-small-3.1", messages=[{"role": "user", "content": "at once"}], extra_body={"complexity": "high"})

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == STAND_IN_REPLY.format("stream it")
    assert chunks[-1].usage.completion_tokens > 0
    assert whole.headers["x-provider"] == TEST_PROVIDER
    assert whole.parse().choices[0].message.content == STAND_IN_REPLY.format("at once")
    assert len(provider_calls(ai)) == 2


def test_without_a_rule_or_a_mapped_model_workers_ai_answers(client, ai):
    plain = client.post("/stream/chat", json=chat("no hint"))
    unmapped = client.post("/stream/chat", json={**chat("hint, unmapped model", complexity="high"), "model": "llama-3.1-8b"})

    assert plain.headers["x-provider"] == unmapped.headers["x-provider"] == "workers-ai"
    assert provider_calls(ai) == []


def test_a_long_prompt_goes_to_the_provider_by_its_size(client, ai):
    response = client.post("/stream/chat", json=chat("word " * 2000))

    assert response.status_code == 200 and response.headers["x-provider"] == TEST_PROVIDER


def test_a_provider_failing_before_its_first_token_falls_back_to_workers_ai(client, ai):
    ai.fail_next({"mode": "error", "worker": "provider", "code": 3040}, {"mode": "error", "worker": "provider", "code": 3040})

    response = client.post("/stream/chat", json=chat("fall back", complexity="high"))

    assert response.status_code == 200
    assert response.headers["x-provider"] == "workers-ai" and response.headers["x-model"] == MAPPED
    assert '"provider":"workers-ai"' in response.text and '"type":"finish"' in response.text  # the finish metadata
    assert len(provider_calls(ai)) >= 1


def test_usage_shows_spend_per_day_and_model_at_the_provider_prices(base_url, new_key, ai):
    key = new_key("enterprise", "providers-spend")["key"]
    with httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {key}"}) as caller:
        caller.post("/stream/chat", json=chat("priced", complexity="high")).raise_for_status()
        caller.post("/stream/chat", json=chat("priced too")).raise_for_status()
        usage = landed_usage(caller, lambda usage: sum(row["calls"] for row in usage["spend"]) == 2)
        graphql = caller.post("/graphql", json={"query": "{ usage { costUsd spend { day model provider calls costUsd } } models { id inputPrice outputPrice } }"}).json()

    by_provider = {row["provider"]: row for row in usage["spend"]}
    external, workers_ai = by_provider[TEST_PROVIDER], by_provider["workers-ai"]
    assert external["model"] == workers_ai["model"] == MAPPED and external["calls"] == workers_ai["calls"] == 1
    assert external["cost_usd"] == pytest.approx((external["prompt_tokens"] * 500 + external["completion_tokens"] * 1000) / 1e6, abs=1e-8)
    # The catalog's Workers AI price for the same model: $0.351 and $0.555 per million tokens.
    assert workers_ai["cost_usd"] == pytest.approx((workers_ai["prompt_tokens"] * 0.351 + workers_ai["completion_tokens"] * 0.555) / 1e6, abs=1e-8)  # rounded to 1e-8 $
    assert usage["cost_usd"] == pytest.approx(external["cost_usd"] + workers_ai["cost_usd"], abs=1e-8)
    assert graphql["data"]["usage"]["costUsd"] == pytest.approx(usage["cost_usd"])
    assert sorted(row["provider"] for row in graphql["data"]["usage"]["spend"]) == sorted([TEST_PROVIDER, "workers-ai"])
    prices = {m["id"]: (m["inputPrice"], m["outputPrice"]) for m in graphql["data"]["models"]}
    assert prices[MAPPED] == (0.351, 0.555)


def test_a_tier_budget_stops_its_keys_once_spent(base_url, new_key, ai):
    key = new_key("pro", "providers-budget")["key"]
    statuses = []
    with httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {key}"}) as caller:
        for _ in range(20):
            response = caller.post("/stream/chat", json=chat("spend", complexity="high"))
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        spent = landed_usage(caller, lambda usage: usage["cost_usd"] >= TEST_PRO_DAILY_BUDGET_USD)

    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}, statuses
    assert response.json()["error"]["reason"] == "budget"
    assert int(response.headers["retry-after"]) > 0
    assert spent["cost_usd"] >= TEST_PRO_DAILY_BUDGET_USD
    assert spent["limits"]["daily_budget_usd"] == TEST_PRO_DAILY_BUDGET_USD


def test_workers_ai_out_of_its_daily_allocation_is_answered_by_the_provider(client, ai):
    ai.fail_next({"mode": "error", "code": 4006, "message": "you have used up your daily free allocation of 10,000 neurons"})

    response = client.post("/stream/chat", json=chat("out of neurons"))

    assert response.status_code == 200, response.text
    assert response.headers["x-provider"] == TEST_PROVIDER and response.headers["x-model"] == MAPPED
    assert STAND_IN_REPLY.format("out of neurons").split()[-1] in response.text
    assert [call["worker"] for call in ai.calls()] == ["inference-service", "provider"]  # no other Workers AI model tried


def test_workers_ai_out_of_its_daily_allocation_without_a_provider_is_a_429_naming_the_limit(client, ai):
    ai.fail_next({"mode": "error", "code": 4006, "message": "you have used up your daily free allocation of 10,000 neurons"})

    response = client.post("/stream/chat", json={**chat("no provider maps this model"), "model": "llama-3.1-8b"})

    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "workers_ai_daily_limit"
    assert 0 < int(response.headers["retry-after"]) <= 86_400
    assert provider_calls(ai) == []


RATE_LIMIT = {"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}}


def provider_rate_limited(retry_after: int = 7) -> dict:
    return {"mode": "error", "worker": "provider", "answer": {"status": 429, "retryAfter": retry_after, "body": RATE_LIMIT}}


def provider_circuit(anonymous, admin_token) -> dict:
    deep = anonymous.get("/health", params={"deep": "1"}, headers={"authorization": f"Bearer {admin_token}"}).json()
    return deep["backends"]["INFERENCE"]["providers"][TEST_PROVIDER]


def test_a_providers_rate_limit_passes_over_it_for_its_own_cool_down(client, ai, anonymous, admin_token):
    ai.fail_next(provider_rate_limited())

    limited = client.post("/stream/chat", json=chat("rate limited", complexity="high"))  # the rules send it to the provider
    circuit = provider_circuit(anonymous, admin_token)
    passed_over = client.post("/stream/chat", json=chat("passed over", complexity="high"))
    calls_while_open = len(provider_calls(ai))
    time.sleep(TEST_PROVIDER_COOLDOWN_SECONDS)  # its cool-down: the next request probes it
    probed = client.post("/stream/chat", json=chat("probed", complexity="high"))

    assert limited.status_code == 200 and limited.headers["x-provider"] == "workers-ai"  # a limit is not retried: failed over
    assert circuit["state"] == "open"
    assert passed_over.headers["x-provider"] == "workers-ai" and calls_while_open == 1
    assert probed.headers["x-provider"] == TEST_PROVIDER
    assert provider_circuit(anonymous, admin_token) == {"state": "closed", "failures": 0}


def test_out_of_workers_ai_and_the_providers_rate_limit_is_a_429_naming_the_first_limit(client, ai):
    ai.fail_next({"mode": "error", "code": 4006, "message": "you have used up your daily free allocation of 10,000 neurons"},
                 provider_rate_limited())

    response = client.post("/stream/chat", json=chat("nowhere to go"))

    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "workers_ai_daily_limit"
    assert [call["worker"] for call in ai.calls()] == ["inference-service", "provider"]
    time.sleep(TEST_PROVIDER_COOLDOWN_SECONDS)  # the provider's circuit, opened by its limit, closes for the next test
