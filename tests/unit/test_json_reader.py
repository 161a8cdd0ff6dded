"""The request body reader: size, nesting and Unicode budgets, each a 4xx naming its limit."""

import json

import pytest

from shared.errors import ApiError, ErrorCode
from shared.json_reader import nested_deeper_than, read_json


def refusal(raw: bytes, **budget) -> ApiError:
    with pytest.raises(ApiError) as raised:
        read_json(raw, **budget)
    return raised.value


def nested(levels: int, leaf: str = "1") -> bytes:
    return ("[" * levels + leaf + "]" * levels).encode()


def test_a_body_within_every_budget_reads_as_json():
    assert read_json(b'{"a": [1, {"b": "x"}], "t": "caf\\u00e9 \\ud83d\\ude00"}') == {"a": [1, {"b": "x"}], "t": "café 😀"}


def test_not_json_is_a_400_naming_the_body():
    error = refusal(b"{nope")
    assert (error.code, error.details["field"]) == (ErrorCode.INVALID_REQUEST, "body")


def test_too_many_bytes_is_a_413_naming_the_limit():
    error = refusal(b"[" + b"1," * 100 + b"1]", max_bytes=50)
    assert (error.code, error.details["limit"]) == (ErrorCode.PAYLOAD_TOO_LARGE, 50)


@pytest.mark.parametrize("levels", [33, 5_000, 400_000])
def test_nesting_past_the_budget_is_a_400_naming_the_limit_without_recursing(levels):
    error = refusal(nested(levels), max_bytes=10_000_000)
    assert (error.code, error.details["limit"]) == (ErrorCode.INVALID_REQUEST, 32)
    assert "32 levels" in error.message


def test_nesting_at_the_budget_is_read():
    assert read_json(nested(32)) == json.loads(nested(32))


def test_brackets_inside_strings_do_not_count():
    body = json.dumps({"text": "[" * 1000 + '\\" {' * 50}).encode()
    assert read_json(body)["text"].startswith("[[[")


def test_depth_counts_objects_and_arrays_alike():
    body = ('{"a":' * 20 + "[" * 13 + "]" * 13 + "}" * 20).encode()
    assert nested_deeper_than(body, 32)
    assert not nested_deeper_than(body, 33)


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b'"a"',  # never closed: json.loads recursed 5,000 levels before it found that out
    b"[" * 5000 + b'"' + b"]" * 5000,  # closed only inside a string that never ends
    b'["\\"' + b"[" * 5000,  # the same behind an escaped quote (the regular expressions' path)
])
def test_brackets_left_open_deeper_than_the_budget_are_refused_before_parsing(body):
    error = refusal(body)
    assert "nests deeper than" in error.message


def test_unbalanced_brackets_are_left_to_the_json_error():
    error = refusal(b"[" * 10 + b"}" * 10)
    assert "not valid JSON" in error.message


def test_a_lone_surrogate_is_a_400_naming_where_it_is():
    error = refusal(b'{"events": [{"type": "a", "properties": {"note": "x\\ud800"}}]}')
    assert error.code == ErrorCode.INVALID_REQUEST
    assert error.details["field"] == "events.0.properties.note"
    assert "valid Unicode" in error.message


def test_a_lone_surrogate_in_a_key_is_refused_naming_the_key_printably():
    error = refusal(b'{"ok": {"\\udc00x": 1}}')
    assert error.details["field"] == "ok.\\udc00x"
    error.details["field"].encode("utf-8")  # the error response itself must be encodable


def test_invalid_utf8_bytes_are_not_json():
    assert "not valid JSON" in refusal(b'{"a": "\xff"}').message
