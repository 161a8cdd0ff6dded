"""Bodies built to break a parser or a store: refused with a 4xx naming the limit or the field,
and the host keeps serving."""

import pytest


def nested_properties(levels: int) -> dict:
    value: object = "leaf"
    for _ in range(levels):
        value = {"n": value}
    return value


def test_event_properties_past_the_budget_are_a_400(client):
    response = client.post("/events", json={"events": [{"type": "deep", "properties": nested_properties(40)}]})

    assert response.status_code == 400
    assert response.json()["error"]["limit"] == 32


def test_a_lone_surrogate_in_event_properties_is_a_400_naming_the_field(client):
    body = '{"events": [{"type": "note", "properties": {"text": "broken \\ud800 text"}}]}'
    response = client.post("/events", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "events.0.properties.text"


def test_a_lone_surrogate_in_a_graphql_variable_is_a_400(client):
    body = '{"query": "query($t: String!) { models { id } }", "variables": {"t": "\\udfff"}}'
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "variables.t"


def test_a_response_format_that_is_not_a_schema_is_a_400_before_any_model_call(client, ai):
    body = {"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": 5}}
    response = client.post("/v1/chat/completions", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "response_format.json_schema"
    assert ai.calls() == []


def test_an_object_schema_with_a_malformed_bound_is_a_400_not_an_aborted_stream(client, ai):
    response = client.post("/stream/object", json={"prompt": "a number", "schema": {"type": "number", "maximum": [1]}})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "schema.maximum"
    assert ai.calls() == []


@pytest.mark.parametrize(("schema", "field"), [
    ({"type": "string", "pattern": "("}, "schema.pattern"),
    ({"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}}, "schema.properties.a.$ref"),
])
def test_a_schema_with_a_bad_pattern_or_a_ref_out_of_the_document_is_a_400_naming_it(client, ai, schema, field):
    response = client.post("/stream/object", json={"prompt": "a value", "schema": schema})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert ai.calls() == []
