"""Tools on /stream/chat: the body's tools and tool choice in either form, and useChat's messages
with tool parts turned into the conversation the model reads (calls, results, then what follows)."""

import json

import pytest

from api import bodies
from shared.contract import Caller, FunctionTool, ToolCall, ToolChoice
from shared.errors import ApiError
from shared.limits import MAX_MESSAGES

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "s1"}
TOOLS_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"type": "function", "function": {"name": "weather", "description": "The weather in a city", "parameters": CITY}}
ASK = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather and time in Paris?"}]}


def chat(model=TOOLS_MODEL, **fields):
    body = bodies.validated(bodies.ChatBody, {"model": model, "messages": [ASK], **fields})
    return bodies.chat_request(body, **IDS)


def refusal(**fields) -> ApiError:
    with pytest.raises(ApiError) as raised:
        chat(**fields)
    assert raised.value.status == 400
    return raised.value


def conversation(*parts, then=None, **fields):
    """The model's messages for: the question, an assistant message of `parts`, and `then`."""
    messages = [ASK, {"id": "a1", "role": "assistant", "parts": list(parts)}, *([then] if then else [])]
    return [(m.role, m.content, m.tool_calls, m.tool_call_id) for m in chat(messages=messages, tools=[WEATHER], **fields).messages]


def weather_part(state, call_id="c1", **answer):
    return {"type": "tool-weather", "toolCallId": call_id, "state": state, "input": {"city": "Paris"}, **answer}


def test_tools_in_openais_form_and_the_ai_sdks_are_the_same_tools():
    as_openai = chat(tools=[WEATHER])
    as_sdk = chat(tools={"weather": {"description": "The weather in a city", "inputSchema": CITY}})
    as_sdk_before_v5 = chat(tools={"weather": {"description": "The weather in a city", "parameters": CITY}})

    expected = [FunctionTool(name="weather", description="The weather in a city", parameters=CITY)]
    assert as_openai.tools == as_sdk.tools == as_sdk_before_v5.tools == expected
    assert as_openai.tool_choice == ToolChoice(mode="auto")


def test_a_tool_without_a_schema_takes_an_empty_object():
    assert chat(tools={"now": {}}).tools == [FunctionTool(name="now", parameters={"type": "object", "properties": {}})]


@pytest.mark.parametrize(("choice", "expected"), [
    ("required", ToolChoice(mode="required")),
    ("none", ToolChoice(mode="none")),
    ({"type": "tool", "toolName": "weather"}, ToolChoice(mode="function", name="weather")),
    ({"type": "function", "function": {"name": "weather"}}, ToolChoice(mode="function", name="weather")),
])
def test_tool_choice_in_either_form(choice, expected):
    assert chat(tools=[WEATHER], toolChoice=choice).tool_choice == expected


@pytest.mark.parametrize(("fields", "field"), [
    ({"tools": [WEATHER], "toolChoice": {"type": "tool", "toolName": "time"}}, "toolChoice"),
    ({"toolChoice": "required"}, "toolChoice"),
    ({"tools": [WEATHER], "toolChoice": "always"}, "toolChoice"),
    ({"tools": [{"type": "code_interpreter"}]}, "tools.0.type"),
    ({"tools": [{"type": "function", "function": {"name": "the weather"}}]}, "tools.0.function.name"),
    ({"tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "required": "city"}}}]},
     "tools.0.function.parameters.required"),
    ({"tools": {"weather": {"inputSchema": {"type": "thing"}}}}, "tools.weather.inputSchema.type"),
    ({"tools": [WEATHER, WEATHER]}, "tools"),
    ({"tools": "weather"}, "tools"),
])
def test_a_malformed_tool_or_choice_is_a_400_naming_it(fields, field):
    error = refusal(**fields)

    assert (error.code, error.details["field"]) == ("invalid_request", field)


def test_the_tools_count_against_the_context_window():
    huge = {"type": "object", "properties": {"city": {"type": "string", "description": "x" * 100_000}}}

    error = refusal(tools={"weather": {"inputSchema": huge}})

    assert (error.code, error.details["field"]) == ("context_length_exceeded", "tools")


@pytest.mark.parametrize("route", [bodies.CompletionBody, bodies.ObjectBody])
def test_the_routes_that_stream_text_take_no_tools(route):
    with pytest.raises(ApiError) as raised:
        bodies.validated(route, {"prompt": "Hi", "schemaName": "sentiment", "tools": [WEATHER]})

    assert (raised.value.code, raised.value.details["field"]) == ("unsupported", "tools")


def test_two_calls_of_one_step_become_one_assistant_message_and_a_result_each():
    time_part = {"type": "dynamic-tool", "toolName": "time", "toolCallId": "c2", "state": "output-error",
                 "input": {"zone": "CET"}, "errorText": "clock unavailable"}

    messages = conversation({"type": "step-start"}, {"type": "text", "text": "Let me check."},
                            weather_part("output-available", output={"celsius": 22}), time_part,
                            {"type": "reasoning", "text": "not sent back"})

    assert messages == [
        ("user", "Weather and time in Paris?", [], None),
        ("assistant", "Let me check.", [ToolCall(id="c1", name="weather", arguments='{"city":"Paris"}'),
                                        ToolCall(id="c2", name="time", arguments='{"zone":"CET"}')], None),
        ("tool", '{"celsius":22}', [], "c1"),
        ("tool", "clock unavailable", [], "c2"),
    ]


def test_each_step_is_its_calls_and_results_then_what_the_model_said_after_them():
    messages = conversation({"type": "step-start"}, weather_part("output-available", output="22C and sunny"),
                            {"type": "step-start"}, {"type": "text", "text": "It is 22C "}, {"type": "text", "text": "and sunny."},
                            then={"role": "user", "parts": [{"type": "text", "text": "Thanks"}]})

    assert messages == [
        ("user", "Weather and time in Paris?", [], None),
        ("assistant", "", [ToolCall(id="c1", name="weather", arguments='{"city":"Paris"}')], None),
        ("tool", "22C and sunny", [], "c1"),  # a string output as it is, as the AI SDK sends it
        ("assistant", "It is 22C and sunny.", [], None),
        ("user", "Thanks", [], None),
    ]


@pytest.mark.parametrize("state", ["input-streaming", "input-available", "approval-requested"])
def test_a_call_without_a_result_before_the_last_message_is_a_400_naming_its_part(state):
    with pytest.raises(ApiError) as raised:
        conversation({"type": "step-start"}, weather_part(state),
                     then={"role": "user", "parts": [{"type": "text", "text": "Never mind"}]})

    assert (raised.value.code, raised.value.details["field"]) == ("invalid_request", "messages.1.parts.1")
    assert "c1" in raised.value.message and "output-available" in raised.value.message


def test_a_call_still_waiting_in_the_last_message_is_left_out():
    messages = conversation({"type": "text", "text": "Checking."}, weather_part("output-available", output="22C"),
                            weather_part("input-streaming", call_id="c2"))

    assert [(role, content, [c.id for c in calls]) for role, content, calls, _ in messages] == [
        ("user", "Weather and time in Paris?", []), ("assistant", "Checking.", ["c1"]), ("tool", "22C", [])]


@pytest.mark.parametrize(("part", "result"), [
    (weather_part("output-denied", approval={"id": "a1", "approved": False, "reason": "Not now"}), "Not now"),
    (weather_part("output-denied"), "Tool call execution denied."),
    (weather_part("approval-responded", approval={"id": "a1", "approved": False}), "Tool call execution denied."),
])
def test_a_denied_call_is_answered_by_the_denial(part, result):
    assert conversation(part)[-1] == ("tool", result, [], "c1")


def test_an_approved_call_is_refused_since_this_deployment_runs_no_tools():
    with pytest.raises(ApiError) as raised:
        conversation(weather_part("approval-responded", approval={"id": "a1", "approved": True}))

    assert (raised.value.code, raised.value.details["field"]) == ("unsupported", "messages.1.parts.0.state")


@pytest.mark.parametrize(("message", "field"), [
    ({"role": "user", "parts": [weather_part("output-available", output="22C")]}, "messages.1.parts.0"),
    ({"role": "assistant", "parts": [{**weather_part("output-available", output="22C"), "toolCallId": None}]},
     "messages.1.parts.0.toolCallId"),
    ({"role": "assistant", "parts": [{**weather_part("output-available", output="22C"), "input": [1]}]}, "messages.1.parts.0.input"),
    ({"role": "assistant", "parts": [{"type": "dynamic-tool", "toolCallId": "c1", "state": "output-available"}]},
     "messages.1.parts.0.toolName"),
    ({"role": "assistant", "parts": [{**weather_part("output-available", output="22C"), "type": "tool-the weather"}]},
     "messages.1.parts.0.type"),
    ({"role": "assistant", "parts": [weather_part("output-pending")]}, "messages.1.parts.0.state"),
    ({"role": "tool", "content": [{"type": "tool-result", "toolCallId": "c1"}]}, "messages.1.role"),
])
def test_a_tool_part_that_cannot_be_read_is_a_400_naming_it(message, field):
    with pytest.raises(ApiError) as raised:
        chat(messages=[ASK, message], tools=[WEATHER])

    assert (raised.value.code, raised.value.details["field"]) == ("invalid_request", field)


def test_a_conversation_without_tools_reads_as_before():
    request = chat(model="llama-3.1-8b", messages=[ASK, {"role": "assistant", "parts": [{"type": "step-start"}, {"type": "text", "text": "Hi"}]}])

    assert [(m.role, m.content, m.tool_calls) for m in request.messages] == [("user", ASK["parts"][0]["text"], []), ("assistant", "Hi", [])]
    assert request.tools == [] and json.loads(request.model_dump_json())["tool_choice"] == {"mode": "auto", "name": None}


@pytest.mark.parametrize("fields", [
    {"system": "Be brief.", "messages": [ASK] * MAX_MESSAGES},
    {"messages": [ASK, {"role": "assistant", "parts": [weather_part("output-available", call_id=f"c{n}", output="22C")
                                                       for n in range(MAX_MESSAGES)]}], "tools": [WEATHER]},
])
def test_more_messages_for_the_model_than_the_limit_is_a_400_naming_messages(fields):
    error = refusal(**fields)

    assert (error.code, error.details["field"], error.details["limit"]) == ("invalid_request", "messages", MAX_MESSAGES)
