"""Payload logs' rules: who is kept (a listed tier or caller, unless the request says off), the
x-payload-log header's values, what a kept payload holds (redacted, images as markers), and when
it expires."""

import pytest

from shared.contract import Caller, ChatMessage, ImageInput, ToolCall
from shared.errors import ApiError
from shared.payloads import PayloadPolicy, is_expired, keeps_payload, payload_of

IMAGE = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(("header", "kept"), [(None, True), ("on", True), ("OFF", False), ("false", False), ("0", False)])
def test_the_header_turns_payload_logs_off_for_one_request(header, kept):
    assert keeps_payload(header) is kept


def test_any_other_header_value_is_refused_naming_the_header():
    with pytest.raises(ApiError) as refused:
        keeps_payload("sometimes")

    assert refused.value.status == 400 and refused.value.details["field"] == "x-payload-log"


def test_a_listed_tier_or_caller_is_kept_unless_its_request_says_off():
    policy = PayloadPolicy.parse("pro, enterprise", "key_abc,jwt:user-1", 7)

    assert policy.keeps(Caller(key_id="key_x", tier="pro"), allowed=True)
    assert policy.keeps(Caller(key_id="key_abc", tier="free"), allowed=True)
    assert policy.keeps(Caller(key_id="jwt:user-1", tier="free"), allowed=True)
    assert not policy.keeps(Caller(key_id="key_abc", tier="free"), allowed=False)
    assert not policy.keeps(Caller(key_id="key_y", tier="free"), allowed=True)


def test_nobody_is_kept_by_default_or_with_no_retention():
    assert not PayloadPolicy().keeps(Caller(key_id="key_abc", tier="pro"), allowed=True)
    assert not PayloadPolicy.parse("pro", "", 0).keeps(Caller(key_id="key_abc", tier="pro"), allowed=True)


def test_a_kept_payload_is_redacted_and_expires_after_the_retention_window():
    messages = [ChatMessage(role="user", content="mail jane@example.com", images=[ImageInput(url=IMAGE)]),
                ChatMessage(role="assistant", tool_calls=[ToolCall(id="c1", name="send", arguments='{"to": "+1 415 555 0132"}')])]

    payload = payload_of("call-1", Caller(key_id="k", tier="pro"), "chat", "m", "workers-ai", "ok", messages,
                         "sent with token sk-proj-Abc123Def456Ghi789Jkl012", [], now=1000.0, retention_days=2)

    assert payload.messages[0].content == "mail [REDACTED:email] [image]"
    assert payload.messages[1].tool_calls[0].arguments == '{"to": "[REDACTED:phone]"}'
    assert payload.answer == "sent with token [REDACTED:secret]"
    assert payload.expires_at == 1000.0 + 2 * 86_400
    assert not is_expired(payload.expires_at, 1000.0 + 86_400) and is_expired(payload.expires_at, payload.expires_at)
