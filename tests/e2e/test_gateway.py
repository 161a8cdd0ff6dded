"""AI Gateway on workerd: with AI_GATEWAY_ID set (the test host's vars), the runtime's AI binding is
given the gateway option on every call, streamed or not (the stand-in records it)."""

import json

from tests.e2e.conftest import HOST_VARIABLES, TEST_GATEWAY

GATEWAY = {"id": TEST_GATEWAY, "cacheTtl": int(HOST_VARIABLES["AI_GATEWAY_CACHE_TTL"]),
           "metadata": json.loads(HOST_VARIABLES["AI_GATEWAY_METADATA"])}


def test_every_workers_ai_call_is_given_the_gateway_option(client, ai):
    whole = client.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "whole"}]})
    streamed = client.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "streamed"}]}]})

    assert (whole.status_code, streamed.status_code) == (200, 200)
    assert '"type":"finish"' in streamed.text
    assert [(call["stream"], call["gateway"]) for call in ai.calls()] == [(False, GATEWAY), (True, GATEWAY)]
