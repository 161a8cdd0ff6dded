"""The AI SDK routes, driven by the AI SDK's own client code (5.0.0, the oldest supported, and
the newest): what useChat, useCompletion and useObject would show a user."""


import json

import httpx
import pytest

from shared.json_schema import validate
from tests.e2e.conftest import LOCAL
from tests.e2e.sdk import SDK_VERSIONS, message_text, run_client, ui_text

STAND_IN_REPLY = "You said: {} (a deterministic reply from the local stand-in for @cf/meta/llama-3.1-8b-instruct-fast)"


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_use_chat_receives_the_assistant_message(base_url, api_key, sdk):
    result = run_client(sdk, base_url, "chat", api_key, text="Tell me about Workers")

    assert result["errors"] == []
    message = result["message"]
    assert message["role"] == "assistant"
    assert [part["state"] for part in message["parts"] if part["type"] == "text"] == ["done"]
    assert message["metadata"]["finishReason"] == "stop"
    assert message["metadata"]["usage"]["completion_tokens"] > 0
    if LOCAL:
        assert message_text(message) == STAND_IN_REPLY.format("Tell me about Workers")


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
@pytest.mark.parametrize("protocol", ["data", "text"])
def test_use_completion_reads_both_protocols(base_url, api_key, sdk, protocol):
    result = run_client(sdk, base_url, "completion", api_key, prompt="Say hi", streamProtocol=protocol,
                        query=f"?protocol={protocol}")

    assert result.get("error") is None
    assert result["completion"] == result["finished"]
    assert result["updates"] > 1  # the completion grew as tokens arrived
    if LOCAL:
        assert result["completion"] == STAND_IN_REPLY.format("Say hi")


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_use_object_builds_the_object_as_it_streams(base_url, api_key, sdk):
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["title", "tags"],
    }
    result = run_client(sdk, base_url, "object", api_key, body={"prompt": "A post about edge AI", "schema": schema})

    assert result["status"] == 200
    assert result.get("error") is None
    assert result["state"] == "successful-parse"
    assert isinstance(result["object"]["title"], str)
    assert isinstance(result["object"]["tags"], list)


def test_use_object_with_a_named_schema(base_url, api_key):
    result = run_client("ai", base_url, "object", api_key, body={"prompt": "I love it", "schemaName": "sentiment"})

    assert result["status"] == 200
    assert result["object"]["sentiment"] in {"positive", "neutral", "negative"}
    assert 0 <= result["object"]["confidence"] <= 1


def test_an_object_that_breaks_its_schema_fails_in_band(base_url, api_key, ai):
    # The stand-in fills strings with "example": far shorter than this schema allows.
    schema = {"type": "object", "properties": {"essay": {"type": "string", "minLength": 50}}, "required": ["essay"]}
    result = run_client("ai", base_url, "object", api_key, body={"prompt": "Write", "schema": schema})

    assert result["status"] == 200  # the stream had started; the failure arrives in it
    assert result["error"] is not None
    assert result["object"] == {"essay": "example"}


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_use_chat_shows_a_mid_stream_model_failure(base_url, api_key, ai, sdk):
    # The next model, asked to continue, fails too: the first failure is what the client is told.
    ai.fail_next({"mode": "mid_stream", "afterTokens": 3, "code": 3040, "message": "connection reset"},
                 {"mode": "error", "code": 5000, "message": "model crashed"})

    result = run_client(sdk, base_url, "chat", api_key, text="one two three four five")

    assert message_text(result["message"]) == "You said: one"
    assert any("connection reset" in error for error in result["errors"])


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_use_chat_gets_an_error_when_the_model_fails_before_the_first_token(base_url, api_key, ai, sdk):
    # The model and its fallback (FALLBACK_MODELS) both: an unknown failure passes to the next model.
    ai.fail_next(*[{"mode": "error", "code": 5000, "message": "model crashed"}] * 2)

    result = run_client(sdk, base_url, "chat", api_key, text="hello")

    assert result.get("message") is None
    assert any("upstream_error" in error and "model crashed" in error for error in result["errors"])


def test_a_plain_text_stream_is_not_compressed_for_a_client_that_accepts_gzip(base_url, api_key):
    # Cloudflare (and workerd's local proxy) gzip text/plain, which would hold tokens back.
    headers = {"authorization": f"Bearer {api_key}", "accept-encoding": "gzip, br"}
    with httpx.stream("POST", f"{base_url}/stream/completion?protocol=text", json={"prompt": "hello"}, headers=headers) as response:
        raw = b"".join(response.iter_raw())

    assert response.status_code == 200
    assert response.headers.get("content-encoding", "identity") == "identity"
    text = raw.decode()  # the bytes on the wire are the text itself
    if LOCAL:
        assert text == STAND_IN_REPLY.format("hello")


def test_use_chat_takes_role_and_content_messages_as_older_clients_send_them(client, ai):
    response = client.post("/stream/chat", json={"messages": [{"role": "system", "content": "Be brief."},
                                                              {"role": "user", "content": "Hi there"}],
                                                 "seed": 9, "topP": 0.5, "stopSequences": ["deterministic"]})

    assert response.status_code == 200
    assert ui_text(response.text) == "You said: Hi there (a "
    assert ai.calls()[-1]["options"] == {"max_tokens": 1024, "seed": 9, "top_p": 0.5}


@pytest.mark.parametrize(("body", "field"), [
    ({"model": "llama-3.1-8b", "messages": [{"id": "u1", "role": "user", "parts": [{"type": "file", "mediaType": "image/png",
                                                                             "url": "data:image/png;base64,iVBORw0KGgo="}]}]},
     "messages.0.parts.0"),  # a model without vision (tests/e2e/test_images.py: those with it)
])
def test_use_chat_images_are_refused_naming_them(client, ai, body, field):
    response = client.post("/stream/chat", json={"messages": [{"role": "user", "content": "Hi"}], **body})

    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("unsupported", field)
    assert ai.calls() == []


CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"weather": {"description": "The weather in a city", "inputSchema": CITY}}


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
# llama-3.3 answers with its calls whole (run unstreamed, its calls sent as chunks); llama-4-scout streams them.
@pytest.mark.parametrize("model", ["llama-3.3-70b", "llama-4-scout"])
def test_use_chat_calls_a_client_side_tool_and_answers_from_its_output(base_url, api_key, sdk, model):
    output = {"forecast": "sunny", "celsius": 21}

    result = run_client(sdk, base_url, "chat-tools", api_key, text="What is the weather in Paris?",
                        body={"model": model, "tools": WEATHER}, output=output)

    assert result["errors"] == []
    first = result["first"]
    [call] = [part for part in first["parts"] if part["type"] == "tool-weather"]
    assert call["state"] == "input-available" and validate(call["input"], CITY) == []
    assert first["metadata"]["finishReason"] == "tool-calls"
    assert result["readyToSend"] is True  # what useChat checks before sending the result back
    final = result["final"]
    assert final["id"] == first["id"]  # the answer goes on in the message that called the tool
    assert [part["type"] for part in final["parts"]] == ["step-start", "tool-weather", "step-start", "text"]
    assert final["metadata"]["finishReason"] == "stop"
    if LOCAL:  # the stand-in quotes the results it was given
        assert json.dumps(output, separators=(",", ":")) in message_text(final)


ASKED = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather in Paris?"}]}
CALLED = {"id": "a1", "role": "assistant", "parts": [{"type": "step-start"}, {
    "type": "tool-weather", "toolCallId": "c1", "state": "output-available", "input": {"city": "Paris"}, "output": "22C"}]}


@pytest.mark.parametrize(("body", "field"), [
    ({"tools": WEATHER, "messages": [ASKED]}, "tools"),
    ({"messages": [ASKED, CALLED]}, "messages"),  # a conversation holding tool calls, with no tools offered
])
def test_use_chat_tools_to_a_model_without_them_are_a_400_naming_the_field_and_the_models_that_have_them(client, ai, body, field):
    response = client.post("/stream/chat", json={"model": "llama-3.1-8b", **body})

    error = response.json()["error"]
    assert response.status_code == 400
    assert (error["code"], error["field"]) == ("unsupported", field)
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in error["models"]
    assert "@cf/meta/llama-3.1-8b-instruct-fast" not in error["models"]
    assert ai.calls() == []
