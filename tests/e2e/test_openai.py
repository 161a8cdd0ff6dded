"""The /v1 routes through the official OpenAI Python SDK, pointed at this server."""

import openai
import pytest

from tests.e2e.conftest import LOCAL

DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"


@pytest.fixture
def sdk(base_url, api_key):
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0) as client:
        yield client


def test_chat_completion(sdk):
    completion = sdk.chat.completions.create(model="llama-3.1-8b", messages=[{"role": "user", "content": "Hi there"}])

    assert completion.object == "chat.completion"
    assert completion.model == DEFAULT_MODEL  # the alias resolved
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens > 0
    if LOCAL:
        assert completion.choices[0].message.content.startswith("You said: Hi there")


def test_streamed_chat_completion_with_usage(sdk):
    stream = sdk.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count to three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    if LOCAL:
        assert content.startswith("You said: Count to three")


def test_embeddings(sdk):
    result = sdk.embeddings.create(model="@cf/baai/bge-base-en-v1.5", input=["edge AI", "edge AI", "databases"])

    vectors = [item.embedding for item in result.data]
    assert [item.index for item in result.data] == [0, 1, 2]
    assert all(len(v) == 768 for v in vectors)
    assert vectors[0] == vectors[1] and vectors[0] != vectors[2]
    assert result.usage.prompt_tokens > 0


def test_embeddings_as_floats_and_as_base64_are_the_same_vectors(sdk):
    texts = ["edge AI", "databases"]
    as_floats = sdk.embeddings.create(model="@cf/baai/bge-base-en-v1.5", input=texts, encoding_format="float")
    as_base64 = sdk.embeddings.create(model="@cf/baai/bge-base-en-v1.5", input=texts)  # the SDK asks for base64

    for floats, packed in zip(as_floats.data, as_base64.data, strict=True):
        assert floats.index == packed.index and len(floats.embedding) == 768
        assert floats.embedding == pytest.approx(packed.embedding, rel=1e-6, abs=1e-7)  # base64 is float32
    assert as_floats.usage == as_base64.usage


def test_models_list(sdk):
    ids = [model.id for model in sdk.models.list()]

    assert DEFAULT_MODEL in ids
    assert "@cf/baai/bge-base-en-v1.5" in ids


def test_unknown_model_is_an_openai_error_listing_valid_models(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])

    error = raised.value.body
    assert error["code"] == "model_not_found"
    assert error["param"] == "model"
    assert DEFAULT_MODEL in error["valid"]


def test_a_mid_stream_failure_raises_in_the_openai_client(sdk, ai):
    ai.fail_next({"mode": "mid_stream", "afterTokens": 2, "message": "model went away"})

    stream = sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "a b c d"}], stream=True)
    received = []
    with pytest.raises(openai.APIError, match="model went away"):
        for chunk in stream:
            received.append(chunk)

    assert "".join(c.choices[0].delta.content or "" for c in received) == "You said:"
