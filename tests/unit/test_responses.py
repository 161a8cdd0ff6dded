"""OpenAI's Responses API: the body read into a generation, the answer's shape and the stream's events."""

import json

import pytest

from api import bodies
from shared.contract import Caller, ToolCall
from shared.errors import ApiError
from shared.responses import whole_output
from shared.streams import PROTOCOL_HEADERS, make_encoder
from shared.workers_ai import Usage

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "resp_1"}
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def request(**body):
    return bodies.openai_responses_request(bodies.validated(bodies.OpenAIResponsesBody, {"model": "llama-3.3-70b", **body}), **IDS)


def refusal(**body) -> ApiError:
    with pytest.raises(ApiError) as caught:
        request(**body)
    return caught.value


def test_a_string_input_with_instructions_is_a_system_then_a_user_message():
    req = request(input="Hi", instructions="Be brief", max_output_tokens=20, temperature=0.5, stream=True)

    assert [(m.role, m.content) for m in req.messages] == [("system", "Be brief"), ("user", "Hi")]
    assert (req.kind, req.protocol, req.max_tokens, req.temperature) == ("chat", "openai-responses", 20, 0.5)


def test_items_carry_messages_a_call_and_its_output_as_the_chat_messages_they_are():
    req = request(tools=[WEATHER], tool_choice={"type": "function", "name": "get_weather"}, input=[
        {"role": "developer", "content": "Use tools"},
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in "}, {"type": "input_text", "text": "Paris?"}]},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}',
         "id": "fc_c1", "status": "completed"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
    ])

    assert [(m.role, m.content) for m in req.messages] == [
        ("system", "Use tools"), ("user", "Weather in Paris?"), ("assistant", ""), ("tool", "sunny")]
    assert req.messages[2].tool_calls == [ToolCall(id="c1", name="get_weather", arguments='{"city":"Paris"}')]
    assert req.messages[3].tool_call_id == "c1"
    assert [t.name for t in req.tools] == ["get_weather"]
    assert (req.tool_choice.mode, req.tool_choice.name) == ("function", "get_weather")


def test_text_format_json_schema_asks_for_an_object_of_that_schema():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    req = request(input="x", text={"format": {"type": "json_schema", "name": "a", "schema": schema, "strict": True}})

    assert (req.kind, req.json_schema) == ("object", schema)


@pytest.mark.parametrize(("body", "field"), [
    ({"previous_response_id": "resp_x"}, "previous_response_id"),
    ({"reasoning": {"effort": "low"}}, "reasoning"),
    ({"tools": [{"type": "web_search"}]}, "tools.0.type"),
    ({"truncation": "auto"}, "truncation"),
    ({"frobnicate": 1}, "frobnicate"),
    ({"input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]}, "input.0.call_id"),
    ({"tool_choice": {"type": "function", "name": "missing"}, "tools": [WEATHER]}, "tool_choice.name"),
    ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input.0.message.content"),
])
def test_what_is_not_carried_is_refused_naming_its_field(body, field):
    error = refusal(**{"input": "x", **body})

    assert error.status == 400
    assert error.details["field"].startswith(field)


def test_store_metadata_and_user_are_accepted_and_change_nothing():
    assert request(input="x", store=True, metadata={"a": "b"}, user="u").messages == request(input="x").messages


def test_a_whole_answer_is_its_text_item_then_its_call_items():
    calls = [ToolCall(id="c1", name="f", arguments="{}")]

    assert [item["type"] for item in whole_output("resp_1", "Hello", calls)] == ["message", "function_call"]
    assert [item["type"] for item in whole_output("resp_1", "", calls)] == ["function_call"]
    assert whole_output("resp_1", "", [])[0]["content"][0] == {"type": "output_text", "text": "", "annotations": [], "logprobs": []}


def events(stream: str) -> list[tuple[str, dict]]:
    out = []
    for block in stream.strip().split("\n\n"):
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == name.removeprefix("event: ")
        out.append((payload["type"], payload))
    return out


def test_a_streamed_answer_is_responses_event_sequence_numbered_ending_with_the_whole_response():
    encoder = make_encoder("openai-responses", stream_id="resp_1", model="m", created=7)
    call = ToolCall(id="c1", name="f", arguments='{"a":1}')
    stream = (encoder.start() + encoder.delta("Hel") + encoder.delta("lo") + encoder.tool_call_start(0, "c1", "f")
              + encoder.tool_call_delta(0, '{"a":') + encoder.tool_call_delta(0, "1}") + encoder.tool_call_end(0, call)
              + encoder.finish("tool_calls", Usage(prompt_tokens=3, completion_tokens=4), {}))
    seen = events(stream)

    assert [kind for kind, _ in seen] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done", "response.completed"]
    assert [payload["sequence_number"] for _, payload in seen] == list(range(len(seen)))
    assert seen[6][1]["text"] == "Hello"
    assert seen[9][1]["output_index"] == 1
    completed = seen[-1][1]["response"]
    assert (completed["status"], completed["store"]) == ("completed", False)
    assert completed["usage"]["input_tokens"] == 3 and completed["usage"]["total_tokens"] == 7
    assert [item["type"] for item in completed["output"]] == ["message", "function_call"]
    assert completed["output"][1]["arguments"] == '{"a":1}'
    assert PROTOCOL_HEADERS["openai-responses"]["content-type"].startswith("text/event-stream")


def test_an_answer_cut_at_its_limit_ends_incomplete_and_a_failure_as_response_failed():
    encoder = make_encoder("openai-responses", stream_id="resp_1", model="m", created=7)
    kind, payload = events(encoder.delta("a") + encoder.finish("length", Usage(), {}))[-1]
    assert (kind, payload["response"]["incomplete_details"]) == ("response.incomplete", {"reason": "max_output_tokens"})

    failed = events(make_encoder("openai-responses", stream_id="resp_2", model="m", created=7).error("boom"))
    assert failed[-1][0] == "response.failed"
    assert failed[-1][1]["response"]["error"]["message"] == "boom"


def test_text_after_a_tool_call_is_a_message_item_of_its_own():
    encoder = make_encoder("openai-responses", stream_id="resp_1", model="m", created=7)
    call = ToolCall(id="c1", name="f", arguments="{}")
    stream = (encoder.start() + encoder.delta("Before") + encoder.tool_call_start(0, "c1", "f") + encoder.delta("After")
              + encoder.tool_call_end(0, call) + encoder.finish("tool_calls", Usage(), {}))

    output = events(stream)[-1][1]["response"]["output"]
    assert [(item["type"], item.get("content", [{}])[0].get("text")) for item in output] == [
        ("message", "Before"), ("function_call", None), ("message", "After")]
    assert len({item["id"] for item in output}) == 3


PNG_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def test_an_input_image_is_read_as_the_messages_image():
    req = bodies.openai_responses_request(bodies.validated(bodies.OpenAIResponsesBody, {"model": "llama-4-scout", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "What is this?"},
                                     {"type": "input_image", "image_url": PNG_URL}]}]}), **IDS)

    assert [image.url for image in req.messages[0].images] == [PNG_URL]
    assert req.messages[0].content == "What is this?"


def test_an_input_image_detail_other_than_auto_is_refused_naming_it():
    error = refusal(input=[{"role": "user", "content": [{"type": "input_image", "image_url": PNG_URL, "detail": "high"}]}])

    assert "detail" in error.details["field"]
