"""JSON texts a client controls besides a body's structure (a token's header and claims, a cursor,
a body's bytes): each read under the one reader's budget (shared/json_reader.py) and refused with
a 4xx naming it, never a 500, and the host keeps serving."""

import base64
import time

import pytest

from shared import jwt
from tests.e2e.conftest import TEST_JWT_SECRET

DEEP = "[" * 5_000 + "]" * 5_000  # 10 KB: json.loads recursed once a level and overflowed the isolate's stack


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def crashed_since(host, seen: int) -> list[str]:
    """What the host logged of a runtime crash since line `seen`."""
    if host is None:
        return []
    return [line for line in host.lines[seen:] if "Maximum call stack" in line or "RangeError" in line]


def token(**claims) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "user-7", "iat": now, "exp": now + 600, **claims}, TEST_JWT_SECRET)


@pytest.mark.parametrize("part", ["header", "claims"])
def test_a_jwt_nested_thousands_deep_is_a_401_and_the_host_keeps_serving(anonymous, client, host, part):
    header, claims = (DEEP, '{"sub":"u"}') if part == "header" else ('{"alg":"HS256","typ":"JWT"}', DEEP)
    deep_token = f"{b64(header)}.{b64(claims)}.{b64('signature')}"  # 13 KB
    seen = len(host.lines) if host else 0

    for _ in range(3):
        response = anonymous.get("/v1/models", headers={"authorization": f"Bearer {deep_token}"})
        assert response.status_code == 401, response.text
        assert response.json()["error"]["reason"] == "token_malformed"
        assert part in response.json()["error"]["message"]
    assert client.get("/v1/models").status_code == 200
    assert crashed_since(host, seen) == []
    assert host is None or host.process.poll() is None


@pytest.mark.parametrize("cursor", [
    DEEP,
    "[100000000000000000000000000000, \"e1\"]",  # past SQLite's integers: D1 failed on it (a 502)
    "[1, null]",
    "[1.5, \"e1\"]",
])
def test_a_cursor_not_given_out_is_the_clients_mistake_naming_after(client, host, cursor):
    seen = len(host.lines) if host else 0
    after = base64.urlsafe_b64encode(cursor.encode()).decode()  # padded, as the API's own cursors are

    response = client.post("/graphql", json={"query": "query($after: String) { events(after: $after) { edges { cursor } } }",
                                             "variables": {"after": after}})

    assert response.status_code == 200, response.text
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("invalid_request", "after")
    assert client.post("/graphql", json={"query": "{ events(first: 1) { edges { cursor } } }"}).json().get("errors") is None
    assert crashed_since(host, seen) == []
