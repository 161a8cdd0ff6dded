import pytest

from shared.models import DEFAULT_TEXT_MODEL, TEXT_MODELS, UnknownModel, parse_model_list, resolve


def test_none_means_the_default():
    assert resolve(None, TEXT_MODELS, DEFAULT_TEXT_MODEL) == DEFAULT_TEXT_MODEL


def test_aliases_and_the_retired_llama_id_resolve_to_the_fast_variant():
    assert resolve("llama-3.1-8b", TEXT_MODELS, DEFAULT_TEXT_MODEL) == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert resolve("@cf/meta/llama-3.1-8b-instruct", TEXT_MODELS, DEFAULT_TEXT_MODEL) == "@cf/meta/llama-3.1-8b-instruct-fast"


def test_an_unknown_model_lists_ids_and_aliases():
    with pytest.raises(UnknownModel) as raised:
        resolve("gpt-9", TEXT_MODELS, DEFAULT_TEXT_MODEL)

    assert DEFAULT_TEXT_MODEL in raised.value.valid
    assert "llama-3.1-8b" in raised.value.valid
    assert "bge-base" not in raised.value.valid  # an embedding alias is no text model


def test_fallback_list_from_a_var():
    assert parse_model_list(" llama-3.3-70b, @cf/google/gemma-3-12b-it ,") == [
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/google/gemma-3-12b-it"
    ]
