"""Every field of OpenAI's (legacy) completion request, and what this api does with it: carried
to the model's inputs, accepted as an identifier that changes no answer, or refused with a 400
naming it. None is silently ignored."""

import pytest

from api import bodies
from inference.planning import model_inputs
from shared.contract import Caller
from shared.errors import ApiError

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "cmpl-1"}
BASE = {"model": "llama-3.1-8b", "prompt": "Once upon a time"}

# From OpenAI's API reference (Create completion, request body).
OPENAI_COMPLETION_REQUEST_FIELDS = {
    "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
    "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
}

HONOURED = {
    "model": ("llama-3.3-70b", lambda req, inputs: req.model == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
    "prompt": (["Hello"], lambda req, inputs: inputs["messages"] == [{"role": "user", "content": "Hello"}]),
    "max_tokens": (42, lambda req, inputs: inputs["max_tokens"] == 42),
    "temperature": (0.5, lambda req, inputs: inputs["temperature"] == 0.5),
    "top_p": (0.5, lambda req, inputs: inputs["top_p"] == 0.5),
    "seed": (7, lambda req, inputs: inputs["seed"] == 7),
    "stop": ("END", lambda req, inputs: req.sampling.stop == ["END"]),
    "frequency_penalty": (0.5, lambda req, inputs: inputs["frequency_penalty"] == 0.5),
    "presence_penalty": (-0.5, lambda req, inputs: inputs["presence_penalty"] == -0.5),
    "stream": (True, lambda req, inputs: req.protocol == "openai-completion"),
    "stream_options": ({"include_usage": True}, lambda req, inputs: req.include_usage),
}
ACCEPTED = {"user": "u-1", "n": 1, "best_of": 1, "echo": False, "logit_bias": {}}
REFUSED = {"suffix": "!", "logprobs": 2, "n": 3, "best_of": 2, "echo": True, "logit_bias": {"50256": -100}}


def request(body: dict):
    return bodies.openai_completion_request(bodies.validated(bodies.OpenAICompletionBody, body), **IDS)


def test_every_field_is_honoured_accepted_or_refused():
    assert set(HONOURED) | set(ACCEPTED) | set(REFUSED) == OPENAI_COMPLETION_REQUEST_FIELDS


@pytest.mark.parametrize("field", sorted(HONOURED))
def test_a_honoured_field_reaches_the_model(field):
    value, holds = HONOURED[field]
    req = request({**BASE, field: value})

    assert req.kind == "completion"
    assert holds(req, model_inputs(req))


@pytest.mark.parametrize("field", sorted(ACCEPTED))
def test_an_accepted_field_changes_nothing(field):
    assert request({**BASE, field: ACCEPTED[field]}) == request(BASE)


@pytest.mark.parametrize("field", sorted(REFUSED))
def test_a_refused_field_is_a_400_naming_it(field):
    with pytest.raises(ApiError) as raised:
        request({**BASE, field: REFUSED[field]})

    assert (raised.value.status, raised.value.details["field"]) == (400, field)


@pytest.mark.parametrize("prompt", [["a", "b"], [], "", [1, 2, 3]])
def test_anything_but_one_prompt_is_refused_naming_prompt(prompt):
    with pytest.raises(ApiError) as raised:
        request({**BASE, "prompt": prompt})

    assert raised.value.details["field"].startswith("prompt")


def test_a_field_openai_does_not_have_is_refused_naming_it():
    with pytest.raises(ApiError) as raised:
        request({**BASE, "messages": []})

    assert raised.value.details["field"] == "messages"
