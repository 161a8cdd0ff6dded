"""Bodies built to break a parser or a store: refused with a 4xx naming the limit or the field,
and the host keeps serving."""

import pytest

POST_ROUTES = ["/stream/chat", "/stream/completion", "/stream/object", "/v1/chat/completions",
               "/v1/embeddings", "/events", "/graphql"]



def nested_properties(levels: int) -> dict:
    value: object = "leaf"
    for _ in range(levels):
        value = {"n": value}
    return value


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_deeply_nested_body_is_a_400_and_the_host_keeps_serving(client, path):
    response = client.post(path, content="[" * 5000 + "]" * 5000, headers={"content-type": "application/json"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["field"], error["limit"]) == ("body", 32)
    assert client.get("/health").status_code == 200


def test_event_properties_as_deep_as_the_budget_allows_are_stored(client):
    # body {events: [ {properties: ...} ]}: 3 levels before the properties' own
    response = client.post("/events", json={"events": [{"type": "deep", "properties": nested_properties(28)}]})

    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1


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
