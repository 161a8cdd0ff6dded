"""Bodies built to break a parser or a store: refused with a 4xx naming the limit or the field,
and the host keeps serving (issue 9)."""

import pytest

POST_ROUTES = ["/stream/chat", "/stream/completion", "/stream/object", "/v1/chat/completions",
               "/v1/embeddings", "/events", "/graphql"]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_deeply_nested_body_is_a_400_and_the_host_keeps_serving(client, path):
    response = client.post(path, content="[" * 5000 + "]" * 5000, headers={"content-type": "application/json"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["field"], error["limit"]) == ("body", 32)
    assert client.get("/health").status_code == 200


def nested_properties(levels: int) -> dict:
    value: object = "leaf"
    for _ in range(levels):
        value = {"n": value}
    return value


def test_event_properties_as_deep_as_the_budget_allows_are_stored(client):
    # body {events: [ {properties: ...} ]}: 3 levels before the properties' own
    response = client.post("/events", json={"events": [{"type": "deep", "properties": nested_properties(28)}]})

    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1


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


@pytest.mark.parametrize("path", ["/__devhost/ai", "/__devhost/scheduled"])
def test_the_control_routes_refuse_a_post_a_web_page_could_send_without_a_preflight(anonymous, ai, path):
    response = anonymous.post(path, content='{"latencyMs": 5000}', headers={"content-type": "text/plain"})

    assert response.status_code == 415
    assert ai.client.get("/__devhost/ai").json()["knobs"]["latencyMs"] == 0


def test_a_chunked_body_past_the_limit_is_a_413_without_being_read_whole(client):
    sent = 0

    def chunks():  # no content-length: the api cannot know the size before reading
        nonlocal sent
        for _ in range(200):  # up to 200 MiB, far past the 1 MiB limit
            sent += 1
            yield b" " * 1_048_576

    response = client.post("/stream/chat", content=chunks(), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"]["limit"] == 1_048_576
    assert sent < 100  # the api stopped reading long before the 200th MiB (6 were sent here)
    assert client.get("/health").status_code == 200
