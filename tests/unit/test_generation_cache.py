"""The generation cache's scopes (who is served whose answers), the caller's skip and TTL, the
Cache API layer in front of KV, and which requests the semantic cache takes."""

import asyncio
import json

import pytest

from api.cache_headers import cache_control
from inference import cache, semantic_cache
from inference.cache_scopes import cache_scopes, semantic_callers
from inference.settings import settings_of
from shared import clock
from shared.contract import CacheControl, Caller, ChatMessage, FunctionTool, GenerationRequest, ImageInput
from shared.errors import ApiError
from shared.workers_ai import Usage
from tests.fakes import EdgeCache, Vectorize, inference_env

ALICE, BOB = Caller(key_id="alice", tier="pro"), Caller(key_id="bob", tier="pro")
CAROL = Caller(key_id="carol", tier="free")
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def generation(caller=ALICE, **extra):
    fields = {"request_id": "r", "caller": caller, "kind": "chat", "model": "@cf/meta/llama-3.1-8b-instruct-fast",
              "messages": [ChatMessage(role="user", content="hi")], "max_tokens": 10, "stream_id": "s", "temperature": 0, **extra}
    return GenerationRequest(**fields)


def key_of(req, scope_var=""):
    return cache.cache_key(req, cache_scopes(scope_var).scope_of(req.caller))


def test_callers_share_answers_only_within_a_pool_the_admin_named():
    assert key_of(generation(ALICE)) != key_of(generation(BOB))  # the default: each caller its own
    assert key_of(generation(ALICE), "caller") != key_of(generation(BOB), "caller")
    assert key_of(generation(ALICE), "shared") == key_of(generation(CAROL), "shared")
    # A tier's pool: its keys share, the other tier's keys do not see them.
    assert key_of(generation(ALICE), "tier:pro") == key_of(generation(BOB), "tier:pro")
    assert key_of(generation(ALICE), "tier:pro") != key_of(generation(CAROL), "tier:pro")
    # Two pools of named keys: each shares within itself only.
    pools = "key:alice, key:carol; key:bob"
    assert key_of(generation(ALICE), pools) == key_of(generation(CAROL), pools)
    assert key_of(generation(ALICE), pools) != key_of(generation(BOB), pools)
    # A caller's own answers are never a pool's.
    assert key_of(generation(ALICE), "tier:pro") != key_of(generation(ALICE))


def test_a_scope_that_names_no_caller_is_refused_with_the_var():
    with pytest.raises(ValueError, match="GENERATION_CACHE_SCOPE: 'pro' names no caller"):
        cache_scopes("tier:team; pro")
    with pytest.raises(ValueError, match="SEMANTIC_CACHE"):
        semantic_callers("key:")


def test_the_scope_and_semantic_callers_are_read_from_the_env():
    settings = settings_of(inference_env(GENERATION_CACHE_SCOPE="tier:pro", SEMANTIC_CACHE="key:carol"))
    assert settings.generation_cache_scopes.scope_of(ALICE) == settings.generation_cache_scopes.scope_of(BOB)
    assert settings.semantic_cache.holds(CAROL) and not settings.semantic_cache.holds(ALICE)
    assert not settings_of(inference_env()).semantic_cache.holds(ALICE)  # opt-in
    assert settings_of(inference_env(SEMANTIC_CACHE="*")).semantic_cache.holds(ALICE)


def test_a_request_that_skips_the_cache_has_no_key():
    assert key_of(generation(cache=CacheControl(skip=True))) is None


def test_an_image_or_a_tool_is_part_of_the_key():
    with_image = generation(messages=[ChatMessage(role="user", content="what is it?", images=[ImageInput(url=PIXEL)])])
    other_image = generation(messages=[ChatMessage(role="user", content="what is it?", images=[ImageInput(url=PIXEL[:-8] + "AAAAAAA=")])])
    assert key_of(with_image) != key_of(other_image)
    # Where the image was in the caller's body does not change the answer.
    moved = generation(messages=[ChatMessage(role="user", content="what is it?", images=[ImageInput(url=PIXEL, field="messages.3")])])
    assert key_of(with_image) == key_of(moved)
    tool = FunctionTool(name="weather", parameters={"type": "object"})
    assert key_of(generation(tools=[tool])) != key_of(generation())


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, CacheControl()),
    ({"x-cache-skip": "true"}, CacheControl(skip=True)),
    ({"x-cache-skip": "0"}, CacheControl()),
    ({"x-cache-ttl": "3600"}, CacheControl(ttl_seconds=3600)),
])
def test_the_cache_headers_say_skip_and_ttl(headers, expected):
    assert cache_control(headers.get) == expected


@pytest.mark.parametrize(("header", "value"), [("x-cache-skip", "yes please"), ("x-cache-ttl", "10"), ("x-cache-ttl", "-60"),
                                               ("x-cache-ttl", "1h"), ("x-cache-ttl", "99999999")])
def test_a_cache_header_that_means_nothing_is_a_400_naming_it(header, value):
    with pytest.raises(ApiError) as refused:
        cache_control({header: value}.get)
    assert refused.value.code == "invalid_request" and refused.value.details["field"] == header


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_clock():
    installed = Clock()
    clock.use(installed)
    yield installed
    clock.use(None)


def answer(text="kept"):
    return cache.entry("m", text, Usage(1, 1))


def test_an_answer_lives_as_long_as_the_callers_ttl_says(fake_clock):
    env = inference_env()
    req = generation(cache=CacheControl(ttl_seconds=120))
    key = key_of(req)
    asyncio.run(cache.store_quietly(env, key, answer(), "r", cache.ttl_seconds(env, req)))

    assert env.CACHE.ttls[key] == 120
    fake_clock.now += 119
    assert asyncio.run(cache.lookup(env, key))["text"] == "kept"
    fake_clock.now += 1
    assert asyncio.run(cache.lookup(env, key)) is None  # whatever copy lingers
    assert cache.ttl_seconds(env, generation()) == 86_400  # the deployment's, without the header


def test_an_answer_read_from_kv_is_then_served_by_the_data_centers_cache_for_the_rest_of_its_life(fake_clock):
    env = inference_env(GENERATION_CACHE_EDGE="true")
    env.EDGE_CACHE = EdgeCache()
    key = key_of(generation())
    asyncio.run(env.CACHE.put(key, json.dumps(answer() | {"expires_at": fake_clock.now + 600})))

    assert asyncio.run(cache.lookup(env, key))["text"] == "kept"  # from KV, copied to the data center
    [(_, ttl)] = env.EDGE_CACHE.data.values()
    assert ttl == 600
    env.CACHE.failing = True
    assert asyncio.run(cache.lookup(env, key))["text"] == "kept"  # the data center's copy


def test_a_stored_answer_goes_to_both_layers_only_when_the_edge_layer_is_on(fake_clock):
    env = inference_env(GENERATION_CACHE_EDGE="true")
    env.EDGE_CACHE = EdgeCache()
    asyncio.run(cache.store_quietly(env, "k1", answer(), "r", 300))
    assert list(env.CACHE.data) == ["k1"] and len(env.EDGE_CACHE.data) == 1

    off = inference_env()  # the default
    off.EDGE_CACHE = EdgeCache()
    asyncio.run(cache.store_quietly(off, "k1", answer(), "r", 300))
    assert asyncio.run(cache.lookup(off, "k1"))["text"] == "kept"
    assert off.EDGE_CACHE.data == {} and off.EDGE_CACHE.reads == 0


def test_a_data_centers_cache_that_fails_is_a_miss_and_kv_answers(fake_clock):
    env = inference_env(GENERATION_CACHE_EDGE="true")
    env.EDGE_CACHE = EdgeCache()
    asyncio.run(cache.store_quietly(env, "k1", answer(), "r", 300))
    env.EDGE_CACHE.failing = True

    assert asyncio.run(cache.lookup(env, "k1"))["text"] == "kept"


def test_the_semantic_cache_takes_single_turn_questions_only():
    assert semantic_cache.question(generation()) == "hi"
    with_system = [ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="hi")]
    assert semantic_cache.question(generation(messages=with_system)) == "hi"
    turns = [ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="hello"),
             ChatMessage(role="user", content="hi again")]
    assert semantic_cache.question(generation(messages=turns)) is None
    assert semantic_cache.question(generation(tools=[FunctionTool(name="f", parameters={"type": "object"})])) is None
    image = [ChatMessage(role="user", content="what is it?", images=[ImageInput(url=PIXEL)])]
    assert semantic_cache.question(generation(messages=image)) is None
    assert semantic_cache.question(generation(cache=CacheControl(skip=True))) is None


def test_semantic_options_are_everything_but_the_question():
    same = semantic_cache.options_digest(generation())
    assert same == semantic_cache.options_digest(generation(messages=[ChatMessage(role="user", content="hello there")]))
    for other in (generation(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast"), generation(temperature=0.5),
                  generation(max_tokens=11), generation(sampling={"seed": 3}),
                  generation(messages=[ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="hi")])):
        assert semantic_cache.options_digest(other) != same
    assert semantic_cache.namespace(ALICE) != semantic_cache.namespace(BOB)
    assert len(semantic_cache.namespace(ALICE)) <= 64


def semantic_env(**variables):
    env = inference_env(SEMANTIC_CACHE="*", **variables)
    env.VECTORS = Vectorize()
    env.AI.answer = {"data": [[0.6, 0.8, 0.0]]}  # every question embeds alike: each one is the other's paraphrase
    return env


def test_a_similar_question_is_answered_with_the_answer_kept_for_the_first(fake_clock):
    env = semantic_env()
    first = generation(temperature=0.5)
    asked = asyncio.run(semantic_cache.lookup(env, first))
    assert asked.entry is None
    asyncio.run(semantic_cache.remember(env, first, asked, answer("kept for the first"), 300))

    similar = asyncio.run(semantic_cache.lookup(env, generation(temperature=0.5, messages=[ChatMessage(role="user", content="hello")])))

    assert similar.entry["text"] == "kept for the first" and similar.score == 1.0
    # Another caller, or another option, looks elsewhere.
    assert asyncio.run(semantic_cache.lookup(env, generation(caller=BOB, temperature=0.5))).entry is None
    assert asyncio.run(semantic_cache.lookup(env, generation(temperature=0.6))).entry is None


def test_a_question_below_the_threshold_is_a_miss(fake_clock):
    env = semantic_env(SEMANTIC_CACHE_THRESHOLD="0.9")
    first = generation()
    asyncio.run(semantic_cache.remember(env, first, asyncio.run(semantic_cache.lookup(env, first)), answer(), 300))
    env.AI.answer = {"data": [[0.8, 0.6, 0.0]]}  # cosine 0.96 with the first
    assert asyncio.run(semantic_cache.lookup(env, generation())).score == 0.96
    env.AI.answer = {"data": [[0.0, 0.6, 0.8]]}  # cosine 0.48

    assert asyncio.run(semantic_cache.lookup(env, generation())).entry is None


def test_a_semantic_cache_that_cannot_embed_or_search_is_a_miss_not_a_failure(fake_clock):
    env = semantic_env()
    env.AI.answer = {}  # no vectors in the model's answer

    looked = asyncio.run(semantic_cache.lookup(env, generation()))

    assert looked.entry is None and looked.vector is None
    asyncio.run(semantic_cache.remember(env, generation(), looked, answer(), 300))  # nothing to keep it by
    assert env.VECTORS.vectors == {}
