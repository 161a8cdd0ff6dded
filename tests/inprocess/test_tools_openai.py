"""Tool calling on /v1/chat/completions: a cached answer replays the tool calls it holds."""


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "required": ["city", "days"], "properties": {
        "city": {"type": "string"}, "days": {"type": "integer", "minimum": 2, "maximum": 5},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


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
