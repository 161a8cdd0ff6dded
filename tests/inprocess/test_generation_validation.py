"""Bad generation requests are refused before any model call, naming the field."""

import pytest

from shared.limits import MAX_MESSAGES, MAX_OUTPUT_TOKENS
from shared.models import TEXT_MODELS

LLAMA_70B_WINDOW = TEXT_MODELS["@cf/meta/llama-3.3-70b-instruct-fp8-fast"].context_window

MESSAGE = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/stream/chat", {"messages": []}, 400, "messages"),
        ("/stream/chat", {"messages": [MESSAGE] * (MAX_MESSAGES + 1)}, 400, "messages"),
        ("/stream/chat", {"messages": [{"role": "user"}]}, 400, "messages.0.parts"),
        ("/stream/chat", {"messages": [{**MESSAGE, "role": "robot"}]}, 400, "messages.0.role"),
        ("/stream/chat", {"messages": [MESSAGE], "maxOutputTokens": MAX_OUTPUT_TOKENS + 1}, 400, "maxOutputTokens"),
        ("/stream/chat", {"messages": [MESSAGE], "temperature": 5}, 400, "temperature"),
        ("/stream/chat", {"model": "llama-3.3-70b", "messages": [{**MESSAGE, "parts": [{"type": "text", "text": "x" * (LLAMA_70B_WINDOW * 4 + 4)}]}]},
         400, "messages"),
        ("/stream/completion", {}, 400, "prompt"),
        ("/stream/object", {"prompt": "x"}, 400, "body"),
        ("/stream/object", {"prompt": "x", "schemaName": "nope"}, 400, "body"),
        ("/v1/chat/completions", {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}], "n": 2}, 400, "n"),
        ("/v1/embeddings", {"model": "@cf/baai/bge-base-en-v1.5", "input": []}, 400, "input"),
    ],
)
def test_invalid_body_is_refused_naming_the_field(client, ai, path, body, status, field):
    response = client.post(path, json=body)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["field"] == field
    assert ai.calls() == []


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/stream/chat", content=b"{nope", headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "body"


def test_an_oversized_body_is_a_413_before_it_is_read(client):
    response = client.post("/stream/chat", content=b"x" * 2_000_000)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_model_lists_the_valid_ones(client, ai):
    response = client.post("/stream/chat", json={"messages": [MESSAGE], "model": "gpt-9"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "model_not_found"
    assert "@cf/meta/llama-3.1-8b-instruct-fast" in error["valid"]
    assert ai.calls() == []


def test_a_null_in_a_json_schema_reaches_the_model_as_null(client):
    """Found by make fuzz: nested None became JavaScript undefined on its way to the AI binding,
    and `"enum": [null]` broke the model call (502)."""
    response = client.post("/v1/chat/completions", json={
        "model": "llama-3.1-8b", "messages": [{"role": "user", "content": "nothing"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"enum": [None], "default": None}}}})

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "null"
