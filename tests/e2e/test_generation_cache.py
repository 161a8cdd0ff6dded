"""The generation cache as callers see it: whose answers a caller is served (its own, or its
pool's: the test host pools the pro tier's keys), the x-cache-skip and x-cache-ttl headers, the
cache's state in the x-cache header and the finish metadata, and the semantic cache (on for two
JWT subjects here) answering a paraphrase, never another caller's question nor another model's or
options' answer."""

import time

import httpx
import pytest

from shared import jwt
from tests.e2e.conftest import SEMANTIC_CALLERS, TEST_JWT_SECRET, needs_faults
from tests.stream_failures import chat

MODEL, OTHER_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def body(text: str, **extra) -> dict:
    return {"messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}], **extra}


def deterministic(text: str) -> dict:
    return body(text, temperature=0)


def answer_text(response: httpx.Response) -> str:
    return "".join(e.split('"delta":"')[1].split('"')[0] for e in response.text.split("\n\n") if '"text-delta"' in e)


def callers(base_url: str, *tokens: str) -> list[httpx.Client]:
    return [httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {token}"}) for token in tokens]


def test_a_callers_answer_serves_another_key_only_in_a_shared_scope(base_url, new_key, ai):
    """Enterprise keys keep their own answers (the default scope); the pro tier's keys share theirs (its pool)."""
    own_a, own_b = new_key("enterprise", "cache-own-a")["key"], new_key("enterprise", "cache-own-b")["key"]
    pro_a, pro_b = new_key("pro", "cache-pro-a")["key"], new_key("pro", "cache-pro-b")["key"]
    a, b, c, d = callers(base_url, own_a, own_b, pro_a, pro_b)
    with a, b, c, d:
        alone = [chat(caller, **deterministic("my secret plan, cached")).headers["x-cache"] for caller in (a, a, b, a)]
        assert alone == ["miss", "hit", "miss", "hit"]  # B's went to the model: a hit would have told B what A asked
        assert len(ai.calls()) == 2

        pooled = [chat(caller, **deterministic("our team's plan, cached")) for caller in (c, d)]
    assert [r.headers["x-cache"] for r in pooled] == ["miss", "hit"]
    assert answer_text(pooled[0]) == answer_text(pooled[1]) != ""
    assert len(ai.calls()) == 3


def test_the_cache_state_is_in_the_header_and_the_finish_metadata(client, ai):
    first, second = chat(client, **deterministic("state, please")), chat(client, **deterministic("state, please"))
    sampled = chat(client, **body("state, please", temperature=0.7))

    assert [r.headers["x-cache"] for r in (first, second, sampled)] == ["miss", "hit", "bypass"]
    assert '"cached":false,"cache":"miss"' in first.text
    assert '"cached":true,"cache":"hit"' in second.text
    assert '"cache":"bypass"' in sampled.text


def test_a_request_that_skips_the_cache_is_neither_served_from_it_nor_kept(client, ai):
    chat(client, **deterministic("skip me once"))
    skipped = client.post("/stream/chat", json=deterministic("skip me once"), headers={"x-cache-skip": "true"})
    fresh = client.post("/stream/chat", json=deterministic("never kept"), headers={"x-cache-skip": "true"})
    after = chat(client, **deterministic("never kept"))

    assert [r.headers["x-cache"] for r in (skipped, fresh, after)] == ["bypass", "bypass", "miss"]
    assert len(ai.calls()) == 4  # every one of them reached the model


def test_a_ttl_header_keeps_the_answer_and_a_bad_one_is_a_400_naming_it(client, ai):
    kept = client.post("/stream/chat", json=deterministic("kept a minute"), headers={"x-cache-ttl": "60"})
    again = chat(client, **deterministic("kept a minute"))
    assert (kept.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")

    for header, value in (("x-cache-ttl", "5"), ("x-cache-ttl", "soon"), ("x-cache-skip", "maybe")):
        refused = client.post("/stream/chat", json=deterministic("bad header"), headers={header: value})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_request" and refused.json()["error"]["field"] == header
    refused = client.post("/v1/chat/completions", headers={"x-cache-ttl": "0"},
                          json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "temperature": 0})
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "x-cache-ttl"


def test_an_unstreamed_answer_says_its_cache_state_too(client, ai):
    request = {"model": MODEL, "messages": [{"role": "user", "content": "whole, from the cache"}], "temperature": 0}
    states = [client.post("/v1/chat/completions", json=request).headers["x-cache"] for _ in range(2)]
    assert states == ["miss", "hit"]


@pytest.fixture
def semantic_callers(base_url):
    now = int(time.time())
    tokens = [jwt.encode({"sub": sub, "tier": "pro", "iat": now, "exp": now + 600}, TEST_JWT_SECRET) for sub in SEMANTIC_CALLERS]
    clients = callers(base_url, *tokens)
    yield clients
    for http in clients:
        http.close()


def test_a_paraphrase_is_answered_from_the_semantic_cache_with_its_score(semantic_callers, ai):
    asker, _ = semantic_callers
    first = chat(asker, **body("How do I reset the password of my account?"))
    paraphrase = chat(asker, **body("how can I reset my account password"))

    assert first.headers["x-cache"] == "miss"
    assert paraphrase.headers["x-cache"] == "semantic"
    score = float(paraphrase.headers["x-cache-score"])
    assert 0.9 <= score <= 1
    assert answer_text(paraphrase) == answer_text(first) != ""
    assert f'"cached":true,"cache":"semantic","cacheScore":{score}' in paraphrase.text
    assert [c["model"] for c in ai.calls()].count(MODEL) == 1  # the paraphrase's answer was not generated


def test_the_semantic_cache_never_answers_another_caller_model_options_or_conversation(semantic_callers, ai):
    asker, other = semantic_callers
    question = "What is the capital city of Australia?"
    chat(asker, **body(question))

    assert chat(asker, **body(question)).headers["x-cache"] == "semantic"
    assert chat(other, **body(question)).headers["x-cache"] == "miss"  # its own namespace: it never learns what was asked
    assert chat(asker, **body(question, model=OTHER_MODEL)).headers["x-cache"] == "miss"
    assert chat(asker, **body(question, temperature=0.3)).headers["x-cache"] == "miss"
    assert chat(asker, **body(question, maxOutputTokens=17)).headers["x-cache"] == "miss"
    assert chat(asker, **body(question, system="Answer in French.")).headers["x-cache"] == "miss"
    turns = {"messages": [{"id": "u0", "role": "user", "parts": [{"type": "text", "text": "hello"}]},
                          {"id": "a0", "role": "assistant", "parts": [{"type": "text", "text": "hi"}]},
                          {"id": "u1", "role": "user", "parts": [{"type": "text", "text": question}]}]}
    assert chat(asker, **turns).headers["x-cache"] == "bypass"
    assert chat(asker, **body("How tall is Mount Everest?")).headers["x-cache"] == "miss"


@needs_faults
def test_an_answer_kept_in_the_data_centers_cache_is_served_while_kv_cannot_be_read(client, ai):
    chat(client, **deterministic("kept near the caller"))
    ai.fault("inference-service.CACHE.get", "KV unavailable")

    again = chat(client, **deterministic("kept near the caller"))

    assert again.headers["x-cache"] == "hit"  # from the Cache API, in front of KV
    assert len(ai.calls()) == 1
