"""The /v1 routes through the official OpenAI Python SDK, pointed at this server."""

import json

import openai
import pytest

from tests.e2e.conftest import LOCAL

DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"


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

    stream = sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "a b c d"}], stream=True,
                                         extra_body={"continuation": False})
    received = []
    with pytest.raises(openai.APIError, match="model went away"):
        for chunk in stream:
            received.append(chunk)

    assert "".join(c.choices[0].delta.content or "" for c in received) == "You said:"


def test_seed_and_sampling_options_reach_the_binding(sdk, ai):
    sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Pick a number"}],
                                seed=42, top_p=0.5, frequency_penalty=0.25, presence_penalty=-0.5, max_completion_tokens=50,
                                extra_body={"top_k": 5})

    assert ai.calls()[-1]["options"] == {"max_tokens": 50, "seed": 42, "top_p": 0.5, "top_k": 5,
                                         "frequency_penalty": 0.25, "presence_penalty": -0.5}


@pytest.mark.parametrize("stream", [False, True])
def test_stop_cuts_the_answer_before_the_sequence(sdk, ai, stream):
    # The stand-in answers "You said: <prompt> (a deterministic reply ...)"; Workers AI takes no
    # stop sequences, so the service cuts the answer itself, across the stream's pieces.
    answer = sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Hi there"}],
                                         stop=["deterministic", "never"], stream=stream)
    if stream:
        chunks = list(answer)
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        content, finish = answer.choices[0].message.content, [answer.choices[0].finish_reason]

    assert content == "You said: Hi there (a "
    assert finish == ["stop"]
    assert "stop" not in ai.calls()[-1]["options"]


def test_a_streamed_answer_cut_by_a_stop_sequence_stops_the_model(sdk, ai):
    ai.set(tokenDelayMs=20)  # the stand-in's answer comes token by token, as a model's does

    chunks = list(sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Hi there"}],
                                              stop=["deterministic"], stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Hi there (a "
    call = ai.calls()[-1]
    assert call.get("cancelled") is True and not call.get("completed")  # the rest was never generated


def test_tools_are_a_bad_request_naming_tools_and_the_models_that_can(sdk, ai):
    tool = {"type": "function", "function": {"name": "weather", "description": "The weather in a city",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[tool])

    error = raised.value.body
    assert (error["code"], error["param"]) == ("unsupported", "tools")
    assert "@cf/meta/llama-3.3-70b-instruct-fp8-fast" in error["models"] and "tools" in error["message"]
    assert ai.calls() == []  # refused before any model call


def test_an_image_detail_other_than_auto_is_a_bad_request_naming_it(sdk, ai):
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="mistral-small-3.1", messages=[{"role": "user", "content": content}])

    assert (raised.value.body["code"], raised.value.param) == ("unsupported", "messages.0.content.1.image_url.detail")
    assert ai.calls() == []  # images themselves: tests/e2e/test_images.py


def test_the_model_list_says_what_each_model_can_do(sdk):
    models = {model.id: model for model in sdk.models.list()}

    llama_70b = models["@cf/meta/llama-3.3-70b-instruct-fp8-fast"].capabilities
    assert llama_70b["tools"] is True and llama_70b["context_window"] == 24_000
    assert {"seed", "top_p", "stop"} <= set(llama_70b["options"])
    assert models[DEFAULT_MODEL].capabilities["tools"] is False
    assert not hasattr(models["@cf/baai/bge-base-en-v1.5"], "capabilities")


def test_json_mode_without_a_schema_answers_an_object_with_something_in_it(sdk):
    completion = sdk.chat.completions.create(model="llama-3.3-70b", messages=[{"role": "user", "content": "Describe Paris"}],
                                             response_format={"type": "json_object"})

    answer = json.loads(completion.choices[0].message.content)
    assert isinstance(answer, dict) and answer


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "llama-3.1-8b", "@cf/meta/llama-3.1-8b-instruct"])
def test_a_model_is_retrieved_by_its_id_with_slashes_or_an_alias(sdk, name):
    model = sdk.models.retrieve(name)

    assert (model.id, model.object, model.owned_by) == (DEFAULT_MODEL, "model", "meta")
    assert model.capabilities["context_window"] == 128_000


def test_an_unknown_model_is_a_404_model_not_found(sdk):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.models.retrieve("@cf/nobody/gpt-9")

    assert (raised.value.status_code, raised.value.code) == (404, "model_not_found")
    assert raised.value.body["type"] == "not_found_error" and DEFAULT_MODEL in raised.value.body["valid"]


def test_a_completion(sdk):
    completion = sdk.completions.create(model="llama-3.1-8b", prompt="Hi there", max_tokens=64)

    assert completion.object == "text_completion" and completion.id.startswith("cmpl-")
    assert completion.model == DEFAULT_MODEL
    assert completion.choices[0].finish_reason == "stop" and completion.choices[0].index == 0
    assert completion.usage.completion_tokens > 0
    if LOCAL:
        assert completion.choices[0].text.startswith("You said: Hi there")


def test_a_streamed_completion_with_usage(sdk):
    chunks = list(sdk.completions.create(model=DEFAULT_MODEL, prompt=["Count to three"], stream=True,
                                         stream_options={"include_usage": True}))

    pieces = [c.choices[0].text for c in chunks if c.choices and c.choices[0].text]
    assert len(pieces) > 1 and all(c.object == "text_completion" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    if LOCAL:
        assert "".join(pieces).startswith("You said: Count to three")


def test_a_completion_stop_sequence_cuts_the_answer(sdk, ai):
    completion = sdk.completions.create(model=DEFAULT_MODEL, prompt="Hi there", stop="deterministic", seed=7, top_p=0.5)

    assert completion.choices[0].text == "You said: Hi there (a "
    assert ai.calls()[-1]["options"]["seed"] == 7 and ai.calls()[-1]["options"]["top_p"] == 0.5


@pytest.mark.parametrize("field, value", [("echo", True), ("best_of", 2), ("n", 2), ("logprobs", 1), ("suffix", "!")])
def test_a_completion_field_asking_for_what_is_not_offered_is_refused_naming_it(sdk, ai, field, value):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.completions.create(model=DEFAULT_MODEL, prompt="Hi", **{field: value})

    assert (raised.value.code, raised.value.param) == ("unsupported", field)
    assert ai.calls() == []


def test_more_than_one_prompt_is_refused_naming_prompt(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.completions.create(model=DEFAULT_MODEL, prompt=["one", "two"])

    assert (raised.value.code, raised.value.param) == ("invalid_request", "prompt")
