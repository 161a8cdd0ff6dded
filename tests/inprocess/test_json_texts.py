"""JSON texts a client controls besides a body's structure (a token's header and claims, a cursor,
a body's bytes): each read under the one reader's budget (shared/json_reader.py) and refused with
a 4xx naming it, never a 500, and the host keeps serving."""

import json
import time

import pytest

from shared import jwt
from tests.e2e.conftest import TEST_JWT_SECRET


def token(**claims) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "user-7", "iat": now, "exp": now + 600, **claims}, TEST_JWT_SECRET)



SURROGATE_BYTES = b"\xed\xa0\x80"  # a lone surrogate's UTF-8-like bytes: not UTF-8


BODIES = {
    "/events": b'{"events": [{"type": "note", "properties": {"text": "a \xed\xa0\x80 b"}}]}',
    "/v1/chat/completions": b'{"model": "@cf/meta/llama-3.1-8b-instruct-fast", "messages": [{"role": "user", "content": "\xed\xa0\x80"}]}',
    "/v1/embeddings": b'{"model": "@cf/baai/bge-base-en-v1.5", "input": "\xed\xa0\x80"}',
    "/graphql": b'{"query": "query($t: String!) { models { id } }", "variables": {"t": "\xed\xa0\x80"}}',
}


@pytest.mark.parametrize("tier", [["pro"], {"tier": "pro"}, 7])
def test_a_jwt_whose_tier_is_not_a_string_is_a_401_saying_so(anonymous, tier):
    response = anonymous.get("/v1/usage", headers={"authorization": f"Bearer {token(tier=tier)}"})

    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["reason"] == "token_malformed"
    assert "tier" in error["message"]


@pytest.mark.parametrize("path", list(BODIES))
def test_a_body_that_is_not_utf8_is_a_400_naming_the_byte(client, path):
    body = BODIES[path]
    assert SURROGATE_BYTES in body

    response = client.post(path, content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == "body"
    assert f"at byte {body.index(SURROGATE_BYTES)}" in error["message"]
    json.dumps(error)  # the answer itself is plain, encodable JSON
