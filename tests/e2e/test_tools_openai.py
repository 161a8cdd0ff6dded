"""Tool calling on /v1/chat/completions, through the official OpenAI Python SDK and the AI SDK's
OpenAI-compatible provider. Locally the Workers AI stand-in (local/ai.mjs) calls tools as
Workers AI's models do: llama-3.3 answers whole (flat calls, no streaming with tools), llama-4-scout
answers in OpenAI's shape and streams its calls in pieces."""

import json
import re

import openai
import pytest

from tests.e2e.conftest import host_only
from tests.e2e.sdk import run_tool_agent

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


def test_a_model_answering_whole_calls_the_tool_with_arguments_that_fit_its_schema(sdk, ai):
    completion = sdk.chat.completions.create(model="llama-3.3-70b", messages=ASK, tools=[WEATHER])

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert CALL_ID.match(call.id)  # the model gave none (flat calls): the service minted it
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 2, "unit": "celsius"}
    assert completion.usage.completion_tokens > 0
    assert ai.calls()[-1]["options"]["tools"] == 1


def test_a_model_answering_in_openais_shape_keeps_its_call_ids(sdk, ai):
    completion = sdk.chat.completions.create(model="llama-4-scout", messages=ASK_BOTH, tools=[WEATHER, CLOCK])

    calls = completion.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "local_time"]
    assert all(c.id.startswith("chatcmpl-tool-") for c in calls)
    assert json.loads(calls[1].function.arguments) == {"city": "Paris"}


def test_streamed_tool_calls_assemble_from_their_deltas(sdk, ai):
    chunks = list(sdk.chat.completions.create(model="llama-4-scout", messages=ASK_BOTH, tools=[WEATHER, CLOCK], stream=True,
                                              stream_options={"include_usage": True}))

    text, calls, finish = streamed(chunks)
    assert text == "" and finish == ["tool_calls"]
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
        ("get_weather", {"city": "Paris", "days": 2, "unit": "celsius"}), ("local_time", {"city": "Paris"})]
    argument_deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or [] if d.function.arguments]
    assert len(argument_deltas) >= 4  # the model's pieces, relayed as they came
    assert chunks[-1].usage.completion_tokens > 0
    assert ai.calls()[-1]["stream"] is True


def test_a_model_that_cannot_stream_tool_calls_is_run_whole_and_its_answer_streamed(sdk, ai):
    chunks = list(sdk.chat.completions.create(model="llama-3.3-70b", messages=ASK_BOTH, tools=[WEATHER, CLOCK], stream=True))

    _, calls, finish = streamed(chunks)
    assert finish == ["tool_calls"]
    assert [c["name"] for c in calls] == ["get_weather", "local_time"] and all(CALL_ID.match(c["id"]) for c in calls)
    assert ai.calls()[-1]["stream"] is False  # asked for a stream, the model itself was not


@pytest.mark.parametrize("stream", [False, True])
def test_the_model_answers_from_the_tools_results(sdk, ai, stream):
    asked = sdk.chat.completions.create(model="llama-4-scout", messages=ASK, tools=[WEATHER])
    call = asked.choices[0].message.tool_calls[0]
    messages = [*ASK, asked.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "22C and sunny"}]

    answer = sdk.chat.completions.create(model="llama-4-scout", messages=messages, tools=[WEATHER], stream=stream)

    text, calls, finish = streamed(answer) if stream else (answer.choices[0].message.content, [], [answer.choices[0].finish_reason])
    assert text.startswith("The tools answered: 22C and sunny") and calls == [] and finish == ["stop"]


def test_a_tool_result_answering_no_call_is_a_bad_request_naming_it(sdk, ai):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="llama-4-scout", tools=[WEATHER], messages=[
            *ASK, {"role": "tool", "tool_call_id": "call_unknown", "content": "22C"}])

    assert raised.value.param == "messages.1.tool_call_id" and "call_unknown" in raised.value.body["message"]
    assert ai.calls() == []


def test_tool_choice_none_gets_text_and_offers_the_model_no_tools(sdk, ai):
    completion = sdk.chat.completions.create(model="llama-4-scout", messages=ASK, tools=[WEATHER], tool_choice="none")

    assert completion.choices[0].finish_reason == "stop" and not completion.choices[0].message.tool_calls
    assert completion.choices[0].message.content.startswith("You said: What is the weather in Paris?")
    assert "tools" not in ai.calls()[-1]["options"]


def test_tool_choice_required_and_a_named_function_reach_the_model(sdk, ai):
    required = sdk.chat.completions.create(model="llama-4-scout", messages=ASK, tools=[WEATHER, CLOCK], tool_choice="required")
    assert ai.calls()[-1]["options"]["tool_choice"] == "required"
    assert required.choices[0].message.tool_calls[0].function.name == "get_weather"

    named = sdk.chat.completions.create(model="llama-4-scout", messages=ASK, tools=[WEATHER, CLOCK],
                                        tool_choice={"type": "function", "function": {"name": "local_time"}})

    assert [c.function.name for c in named.choices[0].message.tool_calls] == ["local_time"]
    assert ai.calls()[-1]["options"] == {"max_tokens": 1024, "tools": 1,
                                         "tool_choice": {"type": "function", "function": {"name": "local_time"}}}


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls_false_keeps_one_call(sdk, ai, stream):
    answer = sdk.chat.completions.create(model="llama-4-scout", messages=ASK_BOTH, tools=[WEATHER, CLOCK],
                                         parallel_tool_calls=False, stream=stream)

    calls = streamed(answer)[1] if stream else [{"name": c.function.name} for c in answer.choices[0].message.tool_calls]
    assert [c["name"] for c in calls] == ["get_weather"]


def test_seed_and_stop_with_tools_reach_the_binding_and_the_service(sdk, ai):
    completion = sdk.chat.completions.create(model="llama-3.3-70b", messages=ASK, tools=[WEATHER], tool_choice="none",
                                             seed=42, stop=["deterministic"])

    assert completion.choices[0].message.content == "You said: What is the weather in Paris? (a "
    options = ai.calls()[-1]["options"]
    assert options["seed"] == 42 and "stop" not in options and "tools" not in options


def test_tools_to_a_model_without_them_are_a_bad_request_naming_tools(sdk, ai):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="llama-3.1-8b", messages=ASK, tools=[WEATHER])

    assert (raised.value.body["code"], raised.value.param) == ("unsupported", "tools")
    assert raised.value.body["models"] == [LLAMA_70B, "@cf/mistralai/mistral-small-3.1-24b-instruct", SCOUT]
    assert ai.calls() == []


@pytest.mark.parametrize("stream", [False, True])
def test_the_external_provider_calls_tools_in_openais_shapes(sdk, ai, stream):
    # complexity "high" routes to the external provider (tests/e2e/conftest.py), the stand-in's OpenAI face.
    answer = sdk.chat.completions.create(model="mistral-small-3.1", messages=ASK_BOTH, tools=[WEATHER, CLOCK], stream=stream,
                                         extra_body={"complexity": "high"})

    if stream:
        _, calls, finish = streamed(answer)
    else:
        calls = [{"name": c.function.name, "arguments": c.function.arguments} for c in answer.choices[0].message.tool_calls]
        finish = [answer.choices[0].finish_reason]
    assert [c["name"] for c in calls] == ["get_weather", "local_time"] and finish == ["tool_calls"]
    assert json.loads(calls[0]["arguments"])["city"] == "Paris"
    provider_call = ai.calls()[-1]
    assert provider_call["worker"] == "provider" and provider_call["options"]["tools"] == 2
    assert provider_call["stream"] is stream  # the provider streams tool calls (OpenAI's delta.tool_calls)


@pytest.mark.parametrize("scenario", ["generate", "stream"])
def test_the_ai_sdk_runs_a_tool_and_answers_from_its_result(base_url, api_key, ai, scenario):
    run = run_tool_agent("openai-compatible", base_url, api_key, scenario, model="llama-4-scout", prompt="What is the weather in Paris?")

    assert run["executions"] == [{"city": "Paris"}]
    assert [s["finishReason"] for s in run["steps"]] == ["tool-calls", "stop"]
    assert run["steps"][0]["toolCalls"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert run["text"].startswith("The tools answered: 22C and sunny in Paris")
    assert [c["stream"] for c in ai.calls()] == [scenario == "stream"] * 2
