"""POST /v1/responses (OpenAI's Responses API, stateless) through the official OpenAI Python SDK."""

import json

import openai
import pytest

from tests.e2e.conftest import LOCAL, host_only
from tests.e2e.sdk import run_tool_agent

DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
WEATHER = {"type": "function", "name": "get_weather", "description": "The current weather in a city",
           "parameters": {"type": "object", "required": ["city", "days"], "properties": {
               "city": {"type": "string"}, "days": {"type": "integer", "minimum": 2, "maximum": 5},
               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}
ASK = "What is the weather in Paris?"


def test_a_response_answers_the_input_as_output_text(sdk):
    response = sdk.responses.create(model="llama-3.1-8b", input="Hi there", instructions="Be brief.", max_output_tokens=64)

    assert (response.object, response.status, response.model, response.store) == ("response", "completed", DEFAULT_MODEL, False)
    assert response.id.startswith("resp_")
    assert [item.type for item in response.output] == ["message"]
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    if LOCAL:
        assert response.output_text.startswith("You said: Hi there")


def test_a_streamed_response_is_its_text_deltas_then_the_completed_response(sdk):
    events = list(sdk.responses.create(model=DEFAULT_MODEL, input="Count to three", stream=True))

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert kinds.count("response.output_text.delta") > 1
    completed = events[-1].response
    assert completed.output_text == text and completed.usage.output_tokens > 0
    if LOCAL:
        assert text.startswith("You said: Count to three")


def test_the_sdks_stream_helper_assembles_the_final_response(sdk):
    with sdk.responses.stream(model=DEFAULT_MODEL, input="Hello stream") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert final.output_text == "".join(deltas) and final.status == "completed"


@host_only  # the stand-in's deterministic calls
def test_a_function_call_then_its_output_gets_an_answer_quoting_it(sdk, ai):
    asked = sdk.responses.create(model="llama-3.3-70b", input=ASK, tools=[WEATHER])

    [call] = [item for item in asked.output if item.type == "function_call"]
    assert call.name == "get_weather" and call.status == "completed"
    assert json.loads(call.arguments) == {"city": "Paris", "days": 2, "unit": "celsius"}
    assert ai.calls()[-1]["options"]["tools"] == 1

    answer = sdk.responses.create(model="llama-3.3-70b", tools=[WEATHER], input=[
        {"role": "user", "content": ASK}, *[item.model_dump(exclude_none=True) for item in asked.output],
        {"type": "function_call_output", "call_id": call.call_id, "output": "22C and sunny"}])

    assert "22C and sunny" in answer.output_text
    assert [item.type for item in answer.output] == ["message"]


@host_only
def test_a_streamed_function_call_comes_as_its_item_and_argument_deltas(sdk, ai):
    events = list(sdk.responses.create(model="llama-4-scout", input=ASK, tools=[WEATHER], stream=True))

    kinds = [event.type for event in events]
    assert "response.function_call_arguments.done" in kinds and kinds[-1] == "response.completed"
    added = next(e for e in events if e.type == "response.output_item.added" and e.item.type == "function_call")
    arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    [call] = [item for item in events[-1].response.output if item.type == "function_call"]
    assert added.item.name == call.name == "get_weather" and call.arguments == arguments
    assert json.loads(arguments)["city"] == "Paris"


def test_previous_response_id_is_a_bad_request_naming_it(sdk, ai):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.responses.create(model=DEFAULT_MODEL, input="Hi", previous_response_id="resp_earlier")

    assert raised.value.param == "previous_response_id"
    assert ai.calls() == []


def test_an_unknown_field_is_a_bad_request_naming_it(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.responses.create(model=DEFAULT_MODEL, input="Hi", extra_body={"frobnicate": 1})

    assert raised.value.param == "frobnicate"


@host_only
@pytest.mark.parametrize("scenario", ["generate", "stream"])
def test_the_ai_sdks_openai_provider_runs_a_tool_and_answers_from_its_result(base_url, api_key, ai, scenario):
    run = run_tool_agent("openai", base_url, api_key, scenario, model="llama-4-scout", prompt=ASK)

    assert run["executions"] == [{"city": "Paris"}]
    assert [s["finishReason"] for s in run["steps"]] == ["tool-calls", "stop"]
    assert run["steps"][0]["toolCalls"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert "22C and sunny in Paris" in run["text"]
    assert run["usage"]["outputTokens"] > 0


@host_only  # the stand-in's injected failure
def test_a_mid_stream_failure_ends_the_stream_as_response_failed_with_its_message(sdk, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "model went away"})

    events = list(sdk.responses.create(model=DEFAULT_MODEL, input="a b c d", stream=True, extra_body={"continuation": False}))

    assert events[-1].type == "response.failed" and "model went away" in events[-1].response.error.message
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "You said:"
