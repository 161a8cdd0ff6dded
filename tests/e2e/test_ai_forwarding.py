"""The Workers AI stand-in forwarding to an OpenAI-compatible server (DEVHOST_AI_FORWARD_URL).
The server is this project's own /v1, on the session's host: a second host (conftest's
forwarding_host) forwards its model calls there, so what comes back is what that server's model
said, relayed twice."""

import httpx
import pytest

from scripts.localhost import FRESH_CONNECTIONS
from tests.e2e.conftest import FORWARDING_ADMIN_TOKEN, host_only
from tests.e2e.test_ai_sdk import STAND_IN_REPLY

pytestmark = host_only


@pytest.fixture(scope="module")
def forwarding(forwarding_host):
    created = httpx.post(f"{forwarding_host.url}/graphql", headers={"authorization": f"Bearer {FORWARDING_ADMIN_TOKEN}"}, json={
        "query": 'mutation { createApiKey(name: "f", tier: ENTERPRISE) { key } }'}).json()
    key = created["data"]["createApiKey"]["key"]
    with httpx.Client(base_url=forwarding_host.url, timeout=30, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {key}"}) as client:
        yield client


def test_a_streamed_chat_is_answered_by_the_forwarded_server(forwarding):
    response = forwarding.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "relay me"}]}]})

    deltas = [e for e in response.text.split("\n\n") if '"type":"text-delta"' in e]
    assert len(deltas) > 1  # still token by token after two hops
    text = "".join(e.split('"delta":"')[1].rsplit('"}', 1)[0] for e in deltas)
    assert text == STAND_IN_REPLY.format("relay me")
    assert '"type":"finish"' in response.text


def test_a_plain_completion_and_embeddings_are_forwarded(forwarding):
    completion = forwarding.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "once"}]})
    embeddings = forwarding.post("/v1/embeddings", json={"model": "@cf/baai/bge-base-en-v1.5", "input": ["a", "b"]})

    assert completion.json()["choices"][0]["message"]["content"] == STAND_IN_REPLY.format("once")
    assert [len(item["embedding"]) for item in embeddings.json()["data"]] == [768, 768]


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_are_forwarded_both_ways(forwarding, stream):
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    response = forwarding.post("/v1/chat/completions", json={
        "model": "llama-4-scout", "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [tool], "stream": stream})

    if stream:
        assert '"name":"get_weather"' in response.text and '"finish_reason":"tool_calls"' in response.text
    else:
        [call] = response.json()["choices"][0]["message"]["tool_calls"]
        assert (call["function"]["name"], call["function"]["arguments"]) == ("get_weather", '{"city":"Paris"}')
