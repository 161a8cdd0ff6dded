"""The catalog says what each model can do; a request asking for more is refused naming the field."""

import pytest

from api import bodies
from shared.capabilities import can_serve, check_options
from shared.contract import Caller
from shared.errors import ApiError
from shared.models import SAMPLING_OPTIONS, TEXT_MODELS, Capabilities, ModelInfo

IDS = {"caller": Caller(key_id="k1"), "request_id": "r1", "stream_id": "s1"}
PLAIN = ModelInfo("@cf/example/plain", "example", "text-generation", 8_000,
                  capabilities=Capabilities(options=frozenset({"temperature", "max_tokens"})))
CATALOG = {**TEXT_MODELS, PLAIN.id: PLAIN}


def test_every_text_model_states_its_window_and_options():
    for model in TEXT_MODELS.values():
        described = model.capabilities.as_dict(model.context_window)
        assert described["context_window"] == model.context_window > 0
        assert set(described["options"]) <= set(SAMPLING_OPTIONS) and "max_tokens" in described["options"]
        assert set(described) == {"tools", "vision", "json_mode", "tool_streaming", "context_window", "options"}


def test_an_option_the_model_does_not_take_is_refused_naming_the_field_and_the_models_that_do():
    with pytest.raises(ApiError) as raised:
        check_options(PLAIN, {"seed": "seed"}, CATALOG)

    assert raised.value.status == 400 and raised.value.code == "unsupported"
    assert raised.value.details["field"] == "seed"
    assert raised.value.details["models"] == list(TEXT_MODELS)  # every Workers AI model here takes seed
    check_options(PLAIN, {"temperature": "temperature"}, CATALOG)  # one it takes passes


def test_the_field_is_named_as_the_caller_named_it():
    with pytest.raises(ApiError) as raised:
        check_options(PLAIN, {"top_p": "topP"}, CATALOG)

    assert raised.value.details["field"] == "topP" and "top_p" in raised.value.message


def test_a_model_serves_a_request_only_with_every_option_and_room_for_its_input():
    assert can_serve(PLAIN, {"temperature"}, 100)
    assert not can_serve(PLAIN, {"temperature", "seed"}, 100)
    assert not can_serve(PLAIN, {"temperature"}, PLAIN.context_window * 4 + 4)


def ui_chat(**fields):
    body = bodies.validated(bodies.ChatBody, {"messages": [{"role": "user", "content": "Hi"}], **fields})
    return bodies.chat_request(body, **IDS)


def test_the_ai_sdk_call_settings_reach_the_request_in_its_names():
    req = ui_chat(topP=0.5, topK=10, seed=7, stopSequences=["END"], frequencyPenalty=0.1, presencePenalty=0.2)

    assert req.sampling.model_dump() == {"top_p": 0.5, "top_k": 10, "seed": 7, "repetition_penalty": None,
                                         "frequency_penalty": 0.1, "presence_penalty": 0.2, "stop": ["END"]}


def test_an_ai_sdk_setting_out_of_range_is_a_400_in_its_name():
    with pytest.raises(ApiError) as raised:
        ui_chat(topK=500)

    assert raised.value.status == 400 and raised.value.details["field"] == "topK"


@pytest.mark.parametrize(("fields", "field"), [
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "What is it?"},
                                                 {"type": "image", "image": "data:image/png;base64,AA=="}]}]},
     "messages.0.content.1"),
    ({"messages": [{"role": "user", "parts": [{"type": "file", "mediaType": "application/pdf", "url": "data:,x"}]}]},
     "messages.0.parts.0"),
])
def test_ai_sdk_image_parts_and_files_are_refused_naming_them(fields, field):
    with pytest.raises(ApiError) as raised:
        ui_chat(**fields)

    assert raised.value.code == "unsupported" and raised.value.details["field"] == field


def test_role_and_content_messages_are_read_like_parts():
    req = ui_chat(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                            {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]}, {"role": "user", "content": "Again"}])

    assert [(m.role, m.content) for m in req.messages] == [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Again")]
