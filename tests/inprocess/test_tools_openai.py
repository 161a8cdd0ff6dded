"""Tool calling on /v1/chat/completions, through the official OpenAI Python SDK and the AI SDK's
OpenAI-compatible provider. Locally the Workers AI stand-in (devhost/ai.mjs) calls tools as
Workers AI's models do: llama-3.3 answers whole (flat calls, no streaming with tools), llama-4-scout
answers in OpenAI's shape and streams its calls in pieces."""

import re

from tests.e2e.conftest import host_only

LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "required": ["city", "days"], "properties": {
        "city": {"type": "string"}, "days": {"type": "integer", "minimum": 2, "maximum": 5},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}
CLOCK = {"type": "function", "function": {"name": "local_time", "description": "The time now in a city",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
# The stand-in calls every tool the last user message names.
ASK_BOTH = [{"role": "user", "content": "Use get_weather and local_time for Paris"}]
CALL_ID = re.compile(r"^call_[0-9a-f]{24}$")

pytestmark = host_only  # the stand-in's deterministic calls


def streamed(chunks) -> tuple[str, list[dict], list[str]]:
    """A streamed answer assembled as OpenAI's clients do: its text, its calls (deltas joined by
    index) and its finish reasons."""
    text, calls, finish = "", {}, []
    for chunk in chunks:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = call["id"] or delta.id
            if delta.function:
                call["name"] = call["name"] or delta.function.name
                call["arguments"] += delta.function.arguments or ""
        if choice.finish_reason:
            finish.append(choice.finish_reason)
    return text, [calls[index] for index in sorted(calls)], finish


def test_a_cached_answer_replays_its_tool_calls_exactly(client, ai):
    body = {"model": "llama-4-scout", "messages": ASK, "tools": [WEATHER], "temperature": 0}
    first = client.post("/v1/chat/completions", json=body)
    again = client.post("/v1/chat/completions", json=body)
    streamed_again = client.post("/v1/chat/completions", json={**body, "stream": True})

    assert (first.headers["x-cache"], again.headers["x-cache"], streamed_again.headers["x-cache"]) == ("miss", "hit", "hit")
    assert again.json()["choices"][0]["message"]["tool_calls"] == first.json()["choices"][0]["message"]["tool_calls"]
    assert again.json()["choices"][0]["finish_reason"] == "tool_calls"
    assert f'"id":"{first.json()["choices"][0]["message"]["tool_calls"][0]["id"]}"' in streamed_again.text
    assert len(ai.calls()) == 1
