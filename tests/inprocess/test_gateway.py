"""AI Gateway (inference/gateway.py): with AI_GATEWAY_ID set (the test host's vars), every Workers
AI call is given the gateway option, and the call's record keeps the log id the binding names."""

import json

from tests.e2e.conftest import HOST_VARIABLES, TEST_GATEWAY

GATEWAY = {"id": TEST_GATEWAY, "cacheTtl": int(HOST_VARIABLES["AI_GATEWAY_CACHE_TTL"]),
           "metadata": json.loads(HOST_VARIABLES["AI_GATEWAY_METADATA"])}


def test_every_workers_ai_call_goes_through_the_gateway_and_its_record_keeps_the_log_id(client, ai, host):
    chat = client.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "via the gateway"}]})
    streamed = client.post("/stream/chat", json={"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "streamed"}]}]})
    embedded = client.post("/v1/embeddings", json={"model": "@cf/baai/bge-base-en-v1.5", "input": ["a", "b"]})
    host.run(host.settle())

    assert [r.status_code for r in (chat, streamed, embedded)] == [200, 200, 200]
    calls = ai.calls()
    assert [call["gateway"] for call in calls] == [GATEWAY] * 3
    logged = [row[0] for row in host.inference_env.DB.rows("SELECT gateway_log_id FROM ai_calls ORDER BY rowid DESC LIMIT 3")]
    assert sorted(logged) == sorted(f"standin-gateway-log-{call['id']}" for call in calls)
