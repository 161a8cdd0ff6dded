import pytest

from api import bodies
from shared.contract import Caller
from shared.errors import ApiError
from shared.models import TEXT_MODELS

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "s1"}


def chat_body(**extra):
    return bodies.validated(bodies.ChatBody, {
        "id": "chat-1",
        "trigger": "submit-message",
        "messages": [
            {"id": "1", "role": "user", "parts": [{"type": "text", "text": "Hi "}, {"type": "step-start"}, {"type": "text", "text": "there"}]},
            {"id": "2", "role": "assistant", "parts": [{"type": "step-start"}, {"type": "text", "text": "Hello"}], "metadata": {"a": 1}},
        ],
        **extra,
    })


def test_use_chat_messages_become_model_messages_from_their_text_parts():
    req = bodies.chat_request(chat_body(system="Be kind"), **IDS)

    assert [(m.role, m.content) for m in req.messages] == [("system", "Be kind"), ("user", "Hi there"), ("assistant", "Hello")]
    assert (req.kind, req.protocol, req.stream_id) == ("chat", "ui", "s1")
    assert req.model == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert req.max_tokens == bodies.DEFAULT_MAX_OUTPUT_TOKENS


def test_unknown_fields_are_ignored_but_wrong_ones_name_the_field():
    with pytest.raises(ApiError) as raised:
        chat_body(temperature="hot")

    assert raised.value.status == 400
    assert raised.value.details["field"] == "temperature"


def test_an_unknown_model_is_refused_before_any_call():
    with pytest.raises(ApiError) as raised:
        bodies.chat_request(chat_body(model="gpt-9"), **IDS)

    assert raised.value.code == "model_not_found"
    assert raised.value.details["field"] == "model"


def test_input_beyond_the_models_context_window_is_a_400_naming_its_limit_in_tokens():
    window = TEXT_MODELS["@cf/meta/llama-3.3-70b-instruct-fp8-fast"].context_window
    fits = bodies.validated(bodies.CompletionBody, {"model": "llama-3.3-70b", "prompt": "x" * (window * 4 - 100)})
    too_long = bodies.validated(bodies.CompletionBody, {"model": "llama-3.3-70b", "prompt": "x" * (window * 4 + 4)})

    assert bodies.completion_request(fits, "text", **IDS).model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    with pytest.raises(ApiError) as raised:
        bodies.completion_request(too_long, "text", **IDS)
    assert raised.value.status == 400 and raised.value.code == "context_length_exceeded"
    assert raised.value.details == {"field": "messages", "limit": 24_000}
    assert "24000 tokens" in raised.value.message
    # The same input fits a model with a larger window: no fixed character cap.
    larger = bodies.validated(bodies.CompletionBody, {"model": "llama-3.1-8b", "prompt": "x" * (window * 4 + 4)})
    assert bodies.completion_request(larger, "text", **IDS).messages[0].content == "x" * (window * 4 + 4)


def test_object_request_takes_a_named_schema_and_asks_for_json():
    body = bodies.validated(bodies.ObjectBody, {"prompt": "Great!", "schemaName": "sentiment"})
    req = bodies.object_request(body, **IDS)

    assert req.json_schema["required"] == ["sentiment", "confidence"]
    assert (req.kind, req.protocol) == ("object", "text")


def test_openai_body_maps_developer_role_content_parts_and_stream_options():
    body = bodies.validated(bodies.OpenAIChatBody, {
        "model": "llama-3.3-70b",
        "messages": [{"role": "developer", "content": "Rules"}, {"role": "user", "content": [{"type": "text", "text": "Q"}]}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 50,
    })
    req = bodies.openai_chat_request(body, **IDS)

    assert [(m.role, m.content) for m in req.messages] == [("system", "Rules"), ("user", "Q")]
    assert (req.protocol, req.include_usage, req.max_tokens) == ("openai", True, 50)
    assert req.model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def test_embedding_input_may_be_one_string():
    body = bodies.validated(bodies.EmbeddingsBody, {"model": "bge-small", "input": "hello"})
    req = bodies.embedding_request(body, caller=Caller(key_id="k"), request_id="r")

    assert (req.model, req.texts) == ("@cf/baai/bge-small-en-v1.5", ["hello"])


def test_an_object_schema_that_is_not_a_schema_is_refused_naming_the_keyword():
    body = bodies.validated(bodies.ObjectBody, {"prompt": "p", "schema": {"type": "number", "maximum": [1]}})
    with pytest.raises(ApiError) as raised:
        bodies.object_request(body, caller=Caller(key_id="k"), request_id="r", stream_id="s")

    assert raised.value.details["field"] == "schema.maximum"


@pytest.mark.parametrize(("response_format", "field"), [
    ({"type": "json_schema", "json_schema": 5}, "response_format.json_schema"),
    ({"type": "json_schema"}, "response_format"),
    ({"type": "yaml"}, "response_format.type"),
])
def test_a_malformed_response_format_is_refused_naming_the_field(response_format, field):
    data = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}], "response_format": response_format}
    with pytest.raises(ApiError) as raised:
        bodies.validated(bodies.OpenAIChatBody, data)

    assert raised.value.details["field"] == field


def test_a_response_format_schema_is_checked_before_use():
    data = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": []}}}}
    body = bodies.validated(bodies.OpenAIChatBody, data)
    with pytest.raises(ApiError) as raised:
        bodies.openai_chat_request(body, caller=Caller(key_id="k"), request_id="r", stream_id="s")

    assert raised.value.details["field"] == "response_format.json_schema.schema.properties"


@pytest.mark.parametrize("name", ["maxOutputTokens", "maxTokens"])
def test_the_output_token_limit_is_read_under_either_name(name):
    req = bodies.chat_request(chat_body(**{name: 7}), **IDS)

    assert req.max_tokens == 7
