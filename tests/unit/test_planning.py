from types import SimpleNamespace

import pytest

from inference import planning
from shared.contract import Caller, ChatMessage, GenerationRequest, ImageInput, ServiceFailed
from shared.workers_ai import Usage

SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def request(**extra):
    fields = {"request_id": "r", "caller": Caller(key_id="k"), "kind": "chat", "model": "@cf/meta/llama-3.1-8b-instruct-fast",
              "messages": [ChatMessage(role="user", content="hello there")], "max_tokens": 5, "stream_id": "s", **extra}
    return GenerationRequest(**fields)


def test_the_fallbacks_follow_the_requested_model_without_repeating_it():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.1-8b, llama-3.3-70b")
    pro = request(caller=Caller(key_id="k", tier="pro"))

    assert planning.model_chain(env, pro) == ["@cf/meta/llama-3.1-8b-instruct-fast", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
    assert planning.model_chain(SimpleNamespace(), pro) == ["@cf/meta/llama-3.1-8b-instruct-fast"]


def test_a_fallback_the_callers_tier_may_not_use_is_skipped():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b")

    assert planning.model_chain(env, request(caller=Caller(key_id="k", tier="free"))) == ["@cf/meta/llama-3.1-8b-instruct-fast"]


def test_inputs_carry_limits_and_temperature_only_when_given():
    assert planning.model_inputs(request()) == {"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 5}
    assert planning.model_inputs(request(temperature=0))["temperature"] == 0


def test_structured_output_puts_the_schema_in_a_system_message_first():
    messages = planning.model_inputs(request(kind="object", json_schema=SCHEMA))["messages"]

    assert messages[0]["role"] == "system" and '"required":["ok"]' in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "hello there"}


def test_finish_reason_is_length_when_the_token_limit_was_reached():
    assert planning.finish_reason(request(), Usage(3, 5)) == "length"
    assert planning.finish_reason(request(), Usage(3, 4)) == "stop"


def test_usage_estimate_counts_about_four_characters_a_token():
    assert planning.estimate_usage(request(), "12345678") == Usage(2, 2)
    assert planning.estimate_usage(request(), "") == Usage(2, 0)


def test_object_errors_cover_bad_json_and_schema_mismatches():
    req = request(kind="object", json_schema=SCHEMA)

    assert planning.object_errors(req, '```json\n{"ok": true}\n```') == []
    assert planning.object_errors(req, '{"ok": "yes"}') == ["$.ok: expected boolean, got str"]
    assert planning.object_errors(req, "Sure, here it is")[0].startswith("$: not valid JSON")
    assert planning.object_errors(request(), "anything") == []


def test_a_generation_reserves_its_prompt_and_largest_answer_at_the_dearest_model_it_may_be_routed_to():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b")
    pro = request(caller=Caller(key_id="k", tier="pro"), max_tokens=1000)

    reservation = planning.worst_case(env, pro)

    # "hello there": 2 prompt tokens; the 70b fallback (0.293 in, 2.253 out a million) is dearer than the 8b.
    assert (reservation.id, reservation.kind, reservation.tokens) == ("r", "ai", 1002)
    assert reservation.cost_usd == round((2 * 0.293 + 1000 * 2.253) / 1_000_000, 8)
    alone = planning.worst_case(SimpleNamespace(), pro)
    assert alone.cost_usd == round((2 * 0.045 + 1000 * 0.384) / 1_000_000, 8) < reservation.cost_usd


def test_sampling_options_reach_the_inputs_and_stop_sequences_stay_with_the_service():
    inputs = planning.model_inputs(request(sampling={"top_p": 0.5, "seed": 3, "top_k": 4, "stop": ["END"]}))

    assert {k: inputs.get(k) for k in ("top_p", "seed", "top_k")} == {"top_p": 0.5, "seed": 3, "top_k": 4}
    assert "stop" not in inputs


def test_a_fallback_whose_window_cannot_hold_the_input_is_skipped():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.3-70b, mistral-small-3.1")
    long = request(caller=Caller(key_id="k", tier="pro"), messages=[ChatMessage(role="user", content="x" * 100_000)])

    assert planning.model_chain(env, long) == ["@cf/meta/llama-3.1-8b-instruct-fast", "@cf/mistralai/mistral-small-3.1-24b-instruct"]


def test_a_stop_sequence_that_cut_the_answer_is_its_finish_reason():
    assert planning.finish_reason(request(), Usage(3, 5)) == "length"
    assert planning.finish_reason(request(), Usage(3, 5), stopped=True) == "stop"


# --- images -------------------------------------------------------------------------------------

PNG_URL = "data:image/png;base64,iVBORw0KGgo="  # the bytes a PNG begins with
MISTRAL, SCOUT, LLAMA_8B = ("@cf/mistralai/mistral-small-3.1-24b-instruct", "@cf/meta/llama-4-scout-17b-16e-instruct",
                            "@cf/meta/llama-3.1-8b-instruct-fast")


def with_image(model: str, **extra) -> GenerationRequest:
    message = ChatMessage(role="user", content="What is this?", images=[ImageInput(url=PNG_URL, field="messages.0.content.1")])
    return request(model=model, messages=[message], caller=Caller(key_id="k", tier="enterprise"), **extra)


def test_an_image_reaches_workers_ai_as_openais_content_parts_the_text_first():
    message = ChatMessage(role="user", content="What is this?", images=[ImageInput(url=PNG_URL)])

    assert planning.model_message(message) == {"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]}
    alone = ChatMessage(role="user", images=[ImageInput(url=PNG_URL), ImageInput(url=PNG_URL)])
    assert [part["type"] for part in planning.model_message(alone)["content"]] == ["image_url", "image_url"]


def test_a_request_with_images_falls_back_only_to_models_with_vision():
    env = SimpleNamespace(FALLBACK_MODELS="llama-3.1-8b, llama-3.3-70b, llama-4-scout")

    assert planning.model_attempts(env, with_image(MISTRAL)) == [("workers-ai", MISTRAL), ("workers-ai", SCOUT)]
    assert planning.model_chain(env, request(caller=Caller(key_id="k", tier="enterprise"), model=MISTRAL)) == [
        MISTRAL, LLAMA_8B, "@cf/meta/llama-3.3-70b-instruct-fp8-fast", SCOUT]  # without images, every fallback


def test_an_image_to_a_model_without_vision_is_refused_naming_the_part_and_the_models_with_vision():
    with pytest.raises(ServiceFailed) as raised:
        planning.model_attempts(SimpleNamespace(FALLBACK_MODELS="llama-4-scout"), with_image(LLAMA_8B))

    failure = raised.value.failure
    assert failure.code == "unsupported"
    assert failure.details == {"field": "messages.0.content.1", "models": [MISTRAL, SCOUT]}
    assert "llama-3.1-8b-instruct-fast does not do image input" in failure.message


def test_an_image_to_a_model_without_vision_goes_to_the_external_provider_when_routing_sends_it_there():
    env = SimpleNamespace(PROVIDER_URL="https://provider.example/v1", PROVIDER_NAME="ext", PROVIDER_MODELS='{"llama-3.1-8b": "gpt-vision"}',
                          ROUTING_RULES='[{"provider": "ext", "complexity": "high"}]', FALLBACK_MODELS="llama-4-scout")

    assert planning.model_attempts(env, with_image(LLAMA_8B, complexity="high")) == [("ext", LLAMA_8B), ("workers-ai", SCOUT)]
    with pytest.raises(ServiceFailed):  # routing keeps it with Workers AI: refused
        planning.model_attempts(env, with_image(LLAMA_8B))


def test_a_vision_model_routed_to_workers_ai_keeps_the_external_provider_as_its_fallback():
    env = SimpleNamespace(PROVIDER_URL="https://provider.example/v1", PROVIDER_NAME="ext", PROVIDER_MODELS='{"mistral-small-3.1": "m"}')

    assert planning.model_attempts(env, with_image(MISTRAL)) == [("workers-ai", MISTRAL), ("ext", MISTRAL)]


def test_an_image_counts_in_the_usage_estimate_and_the_reservation():
    text_only = request(model=MISTRAL, messages=[ChatMessage(role="user", content="What is this?")],
                        caller=Caller(key_id="k", tier="enterprise"))

    assert planning.estimate_usage(with_image(MISTRAL), "").prompt_tokens == planning.estimate_usage(text_only, "").prompt_tokens + 1_500
    assert planning.worst_case(SimpleNamespace(), with_image(MISTRAL)).tokens == planning.worst_case(SimpleNamespace(), text_only).tokens + 1_500
