"""Payload logs keep no secret: every string of the redaction corpus (emails, phone and card
numbers, keys and tokens in their published forms) is gone after redaction, replaced by a marker
naming its kind, and ordinary text is left as it is."""

import json
from pathlib import Path

import pytest

from shared.redaction import REDACTED, redact

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "redaction_corpus.json").read_text())


@pytest.mark.parametrize("case", CORPUS["secrets"], ids=lambda case: f"{case['kind']}:{case['secret'][:24]}")
def test_every_secret_of_the_corpus_is_replaced_by_its_kind(case):
    redacted = redact(case["text"])

    assert case["secret"] not in redacted
    assert REDACTED.format(case["kind"]) in redacted


@pytest.mark.parametrize("text", CORPUS["clean"])
def test_ordinary_text_is_left_as_it_is(text):
    assert redact(text) == text


def test_a_named_secret_keeps_its_name_and_the_text_around_it():
    assert redact("config: password=hunter2hunter2 then more") == "config: password=[REDACTED:secret] then more"


def test_a_long_number_that_fails_the_card_check_is_not_called_a_card():
    assert "[REDACTED:card]" not in redact("invoice 4111 1111 1111 1112")
