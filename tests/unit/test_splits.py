import json
from collections import Counter
from types import SimpleNamespace

import pytest

from inference import planning
from shared.contract import Caller, ChatMessage, GenerationRequest
from shared.splits import SplitsConfigError, choose_arm, parse_splits

A, B = "@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CANARY = {"name": "canary", "models": ["llama-3.1-8b"], "arms": [{"name": "A", "weight": 90}, {"name": "B", "weight": 10, "model": "llama-3.3-70b"}]}


def request(text="hi", key_id="k", tier="pro", model=A, messages=None):
    return GenerationRequest(request_id="r", caller=Caller(key_id=key_id, tier=tier), kind="chat", model=model, max_tokens=5,
                             stream_id="s", messages=messages or [ChatMessage(role="user", content=text)])


def splits(*configs):
    return parse_splits(json.dumps(list(configs)), {"workers-ai", "ext"})


def test_arms_are_drawn_by_weight():
    [split] = splits(CANARY)

    drawn = Counter(split.arm_for(f"caller {i}").name for i in range(10_000))

    assert 8_800 <= drawn["A"] <= 9_200  # sha256 spreads the ids evenly


def test_a_caller_stays_on_its_arm_and_a_conversation_on_its_own():
    by_caller = splits(CANARY)
    by_conversation = splits({**CANARY, "sticky": "conversation"})

    assert len({choose_arm(by_caller, request(text=f"q{i}")).arm for i in range(50)}) == 1  # one caller, many questions
    later_turn = request(messages=[ChatMessage(role="user", content="first"), ChatMessage(role="assistant", content="a"),
                                   ChatMessage(role="user", content="second")])
    assert choose_arm(by_conversation, later_turn) == choose_arm(by_conversation, request(text="first", key_id="other"))


def test_the_arm_names_its_model_or_keeps_the_requested_one():
    [split] = splits(CANARY)
    choices = [choose_arm([split], request(key_id=f"k{i}")) for i in range(200)]

    assert {(c.arm, c.model) for c in choices} == {("A", A), ("B", B)}
    assert choose_arm([split], request(model="@cf/meta/llama-4-scout-17b-16e-instruct")) is None  # not a model of the split


@pytest.mark.parametrize(("config", "message"), [
    ({**CANARY, "arms": [{"name": "A", "weight": 0}]}, "weight"),
    ({**CANARY, "arms": [{"name": "A", "weight": 1, "model": "gpt-9"}]}, "gpt-9"),
    ({**CANARY, "arms": [{"name": "A", "weight": 1, "provider": "nobody"}]}, "no provider 'nobody'"),
    ({**CANARY, "arms": [{"name": "A", "weight": 1}, {"name": "A", "weight": 1}]}, "each name once"),
])
def test_a_split_that_cannot_be_used_is_a_named_config_error(config, message):
    with pytest.raises(SplitsConfigError, match="TRAFFIC_SPLITS") as error:
        splits(config)
    assert message in str(error.value)


def test_an_arm_the_callers_tier_may_not_use_leaves_the_request_on_no_arm():
    env = SimpleNamespace(TRAFFIC_SPLITS=json.dumps([{**CANARY, "arms": [{"name": "B", "weight": 1, "model": "llama-3.3-70b"}]}]))

    assert planning.routed(env, request(tier="pro")).model == B
    free = planning.routed(env, request(tier="free"))  # the free tier may not use the 70b model
    assert (free.model, free.arm) == (A, None)


def test_an_arm_with_a_provider_tries_it_first():
    env = SimpleNamespace(PROVIDER_URL="https://provider.example/v1", PROVIDER_NAME="ext", PROVIDER_MODELS='{"llama-3.1-8b": "m"}',
                          TRAFFIC_SPLITS=json.dumps([{**CANARY, "arms": [{"name": "P", "weight": 1, "provider": "ext"}]}]))

    assert planning.model_attempts(env, request())[0] == ("workers-ai", A)  # on no split: Workers AI first
    routed = planning.routed(env, request())
    assert routed.arm.arm == "P"
    assert planning.model_attempts(env, routed) == [("ext", A), ("workers-ai", A)]
