"""What both suites' failure tests send and check: a chat request, and a JSON error with no traceback."""


CHAT = {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hello"}]}]}


def chat(client, **extra):
    return client.post("/stream/chat", json={**CHAT, **extra})


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert "Traceback" not in response.text
    return error
