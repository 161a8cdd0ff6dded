"""Every field of OpenAI's chat completion request, and what this api does with it: carried to
the model's inputs (or the service's answer), accepted as an identifier that changes no answer,
or refused with a 400 naming it. None is silently ignored."""

from types import SimpleNamespace

import pytest

from api import bodies
from inference.planning import model_attempts, model_inputs
from shared.contract import Caller, ServiceFailed
from shared.errors import ApiError

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "s1"}
BASE = {"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "Hi"}]}
TOOL_MODEL = "llama-4-scout"

# From OpenAI's API reference (Create chat completion, request body).
OPENAI_CHAT_REQUEST_FIELDS = {
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier", "seed",
    "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
    "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
}

TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}
CLOCK = {"type": "function", "function": {"name": "clock"}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}

# Field: (a value asking for something, what the model's inputs or the request then hold).
HONOURED = {
    "messages": ([{"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "you"}]}],
                 lambda req, inputs: inputs["messages"] == [{"role": "user", "content": "Hi you"}]),
    "model": ("llama-3.3-70b", lambda req, inputs: req.model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
    "frequency_penalty": (0.5, lambda req, inputs: inputs["frequency_penalty"] == 0.5),
    "presence_penalty": (-0.25, lambda req, inputs: inputs["presence_penalty"] == -0.25),
    "max_completion_tokens": (7, lambda req, inputs: inputs["max_tokens"] == 7),
    "max_tokens": (8, lambda req, inputs: inputs["max_tokens"] == 8),
    "seed": (42, lambda req, inputs: inputs["seed"] == 42),
    "temperature": (0.3, lambda req, inputs: inputs["temperature"] == 0.3),
    "top_p": (0.9, lambda req, inputs: inputs["top_p"] == 0.9),
    # Cut by the service (Workers AI takes no stop sequences): inference/stop_sequences.py.
    "stop": ("\n\n", lambda req, inputs: req.sampling.stop == ["\n\n"] and "stop" not in inputs),
    "response_format": ({"type": "json_object"},
                        lambda req, inputs: req.json_schema == {"type": "object"} and "JSON" in inputs["messages"][0]["content"]),
    "stream": (True, lambda req, inputs: req.protocol == "openai"),
    "stream_options": ({"include_usage": True}, lambda req, inputs: req.include_usage),
    "tools": ([TOOL], lambda req, inputs: inputs["tools"] == [TOOL] and inputs["tool_choice"] == "auto"),
    "tool_choice": ({"type": "function", "function": {"name": "clock"}},
                    lambda req, inputs: [t["function"]["name"] for t in inputs["tools"]] == ["clock"]
                    and inputs["tool_choice"] == {"type": "function", "function": {"name": "clock"}}),
    # Applied by the service (Workers AI takes no such option): the answer's first call is kept.
    "parallel_tool_calls": (False, lambda req, inputs: req.parallel_tool_calls is False and "parallel_tool_calls" not in inputs),
}
# Fields whose value asks for tools, on a model that calls them (with the tools they choose from).
WITH_TOOLS = {"tools": {"model": TOOL_MODEL}, "tool_choice": {"model": TOOL_MODEL, "tools": [TOOL, CLOCK]},
              "parallel_tool_calls": {"model": TOOL_MODEL, "tools": [TOOL]}}
# Identifiers and cache hints: accepted, and the request is as it would be without them.
ACCEPTED_WITHOUT_EFFECT = {"user": "user-1", "safety_identifier": "hash-1", "prompt_cache_key": "k", "metadata": {"app": "x"}}
# Field: a value asking for what this deployment or its models lack.
REFUSED = {
    "functions": [{"name": "weather"}],
    "function_call": "auto", "audio": {"voice": "alloy", "format": "mp3"}, "logit_bias": {"50256": -100},
    "logprobs": True, "top_logprobs": 2, "modalities": ["text", "audio"], "n": 2, "prediction": {"type": "content", "content": "x"},
    "reasoning_effort": "low", "service_tier": "flex", "store": True, "verbosity": "low", "web_search_options": {},
}


def chat(**fields):
    body = bodies.validated(bodies.OpenAIChatBody, {**BASE, **fields})
    return bodies.openai_chat_request(body, **IDS)


def test_the_lists_cover_every_field_of_openais_request_once():
    covered = [*HONOURED, *ACCEPTED_WITHOUT_EFFECT, *REFUSED]
    assert sorted(covered) == sorted(OPENAI_CHAT_REQUEST_FIELDS)


@pytest.mark.parametrize("field", sorted(HONOURED))
def test_an_honoured_field_reaches_the_model_inputs(field):
    value, holds = HONOURED[field]
    extra = {"stream": True} if field == "stream_options" else WITH_TOOLS.get(field, {})
    req = chat(**{field: value, **extra})

    assert holds(req, model_inputs(req))


@pytest.mark.parametrize("field", sorted(ACCEPTED_WITHOUT_EFFECT))
def test_an_identifier_is_accepted_and_changes_nothing(field):
    assert chat(**{field: ACCEPTED_WITHOUT_EFFECT[field]}) == chat()


@pytest.mark.parametrize("field", sorted(REFUSED))
def test_a_field_asking_for_what_is_lacking_is_a_400_unsupported_naming_it(field):
    with pytest.raises(ApiError) as raised:
        chat(**{field: REFUSED[field]})

    assert raised.value.status == 400 and raised.value.code == "unsupported"
    assert raised.value.details["field"] == field
    assert raised.value.message.startswith(f"{field}: ")


def test_tools_for_a_model_without_them_are_refused_naming_the_models_whose_catalog_says_they_can():
    # Refused by the inference service, which knows whether routing sends the model to a provider that takes tools.
    with pytest.raises(ServiceFailed) as raised:
        model_attempts(SimpleNamespace(), chat(tools=[TOOL]))

    able = ["@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/mistralai/mistral-small-3.1-24b-instruct",
            "@cf/meta/llama-4-scout-17b-16e-instruct"]
    failure = raised.value.failure
    assert (failure.code, failure.details["field"], failure.details["models"]) == ("unsupported", "tools", able)
    assert all(model in failure.message for model in able)


def test_defaults_and_nulls_are_as_if_absent():
    plain = chat()
    assert chat(n=1, logprobs=False, store=False, modalities=["text"], service_tier="auto", logit_bias={}, tools=[]) == plain
    assert chat(tools=None, tool_choice=None, parallel_tool_calls=None, seed=None, user=None) == plain
    assert chat(tool_choice="auto", parallel_tool_calls=True) == plain


def test_a_field_not_in_openais_request_is_a_400_naming_it():
    with pytest.raises(ApiError) as raised:
        chat(temprature=0.5)

    assert raised.value.status == 400 and raised.value.details["field"] == "temprature"


def test_a_stop_string_and_max_completion_tokens_take_openais_forms():
    req = chat(stop="END", max_completion_tokens=5, max_tokens=9)

    assert req.sampling.stop == ["END"] and req.max_tokens == 5


def test_an_option_out_of_range_is_a_400_naming_it():
    for field, value in (("seed", 0), ("top_p", 1.5), ("stop", ["a", "b", "c", "d", "e"]), ("frequency_penalty", 3)):
        with pytest.raises(ApiError) as raised:
            chat(**{field: value})
        assert raised.value.status == 400 and raised.value.details["field"].startswith(field)


@pytest.mark.parametrize(("message", "field"), [
    ({"role": "function", "name": "weather", "content": "22C"}, "messages.1.role"),
    ({"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": "{}"}}, "messages.1.function_call"),
    ({"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "x", "input": ""}}]},
     "messages.1.tool_calls.0.type"),
    ({"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}}]},
     "messages.1.content.1.image_url.detail"),
    ({"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}, "messages.1.content.0"),
    ({"role": "user", "name": "alice", "content": "Hi"}, "messages.1.name"),
])
def test_a_message_carrying_what_is_lacking_is_refused_naming_where(message, field):
    with pytest.raises(ApiError) as raised:
        chat(messages=[{"role": "system", "content": "Be brief."}, message])

    assert raised.value.code == "unsupported" and raised.value.details["field"] == field


def test_an_answer_sent_back_as_the_sdk_returned_it_is_read():
    echoed = {"role": "assistant", "content": "Hello", "refusal": None, "tool_calls": None, "function_call": None,
              "audio": None, "annotations": None}
    req = chat(messages=[{"role": "user", "content": "Hi"}, echoed, {"role": "user", "content": "Again"}])

    assert [(m.role, m.content) for m in req.messages] == [("user", "Hi"), ("assistant", "Hello"), ("user", "Again")]


def test_an_image_part_reaches_the_model_inputs_as_workers_ai_reads_it():
    png = "data:image/png;base64,iVBORw0KGgo="  # the bytes a PNG begins with
    content = [{"type": "text", "text": "What is "}, {"type": "image_url", "image_url": {"url": png, "detail": "auto"}},
               {"type": "text", "text": "this?"}]

    inputs = model_inputs(chat(model="mistral-small-3.1", messages=[{"role": "user", "content": content}]))

    assert inputs["messages"] == [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                               {"type": "image_url", "image_url": {"url": png}}]}]
