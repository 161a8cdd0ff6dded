import pytest

from shared.contract import ChatMessage
from shared.errors import ErrorCode
from shared.guardrails import Guardrails, GuardrailsConfigError, Verdict, blocked, moderation_messages, parse_guardrails, verdict_of


def test_a_keys_entry_replaces_its_tiers():
    guardrails = parse_guardrails('{"tiers": {"free": ["prompt", "answer"]}, "keys": {"k1": []}}')

    assert guardrails.stages_for("k2", "free") == {"prompt", "answer"}
    assert guardrails.stages_for("k1", "free") == set()
    assert guardrails.stages_for("k2", "pro") == set()
    assert Guardrails().stages_for("k", "free") == set()


def test_a_stage_that_does_not_exist_is_a_named_config_error():
    with pytest.raises(GuardrailsConfigError, match="GUARDRAILS"):
        parse_guardrails('{"tiers": {"free": ["everything"]}}')


@pytest.mark.parametrize(("response", "verdict"), [
    ({"safe": True, "categories": []}, Verdict(True)),
    ({"safe": False, "categories": ["S1", "S10"]}, Verdict(False, ("S1", "S10"))),
    ("safe", Verdict(True)),
    ("\n\nunsafe\nS2,S9", Verdict(False, ("S2", "S9"))),
    ("I cannot tell", Verdict(False, ("unreadable verdict",))),  # no verdict blocks rather than lets through
    (None, Verdict(False, ("unreadable verdict",))),
])
def test_verdicts_in_json_mode_and_as_text(response, verdict):
    assert verdict_of(response) == verdict


def test_the_refusal_names_each_category():
    refusal = blocked("prompt", Verdict(False, ("S1", "S99")))

    assert refusal.code == ErrorCode.CONTENT_BLOCKED
    assert refusal.message == "The prompt was blocked by the guardrails: S1 (violent crimes), S99"
    assert refusal.details == {"field": "messages", "stage": "prompt", "categories": ["S1", "S99"]}


def test_the_conversation_alternates_user_and_assistant_turns():
    messages = [ChatMessage(role="system", content="be nice"), ChatMessage(role="user", content="a"),
                ChatMessage(role="user", content="b"), ChatMessage(role="assistant", content="c"), ChatMessage(role="user", content="d")]

    assert moderation_messages(messages) == [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"},
                                             {"role": "user", "content": "d"}]
    assert moderation_messages(messages, "e")[-1] == {"role": "assistant", "content": "e"}
