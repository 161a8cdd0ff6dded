import pytest

from shared.models import ALIASES, ALL_MODELS, DEFAULT_TEXT_MODEL, RETIRED, TEXT_MODELS, UnknownModel, parse_model_list, resolve

ALL_IDS = [m.id for m in ALL_MODELS]


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
    assert parse_model_list(" llama-3.3-70b, @cf/mistralai/mistral-small-3.1-24b-instruct ,") == [
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/mistralai/mistral-small-3.1-24b-instruct"
    ]


# Text-generation models Cloudflare has retired (its model pages' deprecation notices), as of 2026-11.
RETIRED_BY_CLOUDFLARE = {"@cf/google/gemma-3-12b-it", "@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-2-7b-chat-fp16",
                         "@cf/mistral/mistral-7b-instruct-v0.1"}


def test_the_catalog_offers_no_retired_model_and_no_alias_leads_to_one():
    assert not RETIRED_BY_CLOUDFLARE & set(ALL_IDS)
    assert not RETIRED_BY_CLOUDFLARE & set(ALIASES.values())
    assert set(RETIRED) <= RETIRED_BY_CLOUDFLARE
    for successor in (successor for _, successor in RETIRED.values()):
        assert successor in TEXT_MODELS


def test_a_retired_model_is_refused_with_its_date_and_successor():
    with pytest.raises(UnknownModel, match="retired by Cloudflare on 2026-05-30; use '@cf/mistralai/mistral-small-3.1-24b-instruct'"):
        resolve("@cf/google/gemma-3-12b-it", TEXT_MODELS, DEFAULT_TEXT_MODEL)
    with pytest.raises(UnknownModel, match="Unknown model 'gemma-3-12b'"):  # its old alias is gone with it
        resolve("gemma-3-12b", TEXT_MODELS, DEFAULT_TEXT_MODEL)
    # A retired id with a same-family successor still works, as that successor.
    assert resolve("@cf/meta/llama-3.1-8b-instruct", TEXT_MODELS, DEFAULT_TEXT_MODEL) == "@cf/meta/llama-3.1-8b-instruct-fast"
