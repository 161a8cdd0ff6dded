"""The one JSON reader: size, nesting and Unicode budgets, each refusal naming its field and limit,
and no JSON parser called anywhere else in the workers."""

import ast
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.errors import ApiError, ErrorCode
from shared.json_reader import JsonRefused, nested_deeper_than, parse_json, parse_json_as, read_json

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(("raw", "at"), [
    (b'{"a": "\xff"}', 7),
    (b'{"a": "x\xed\xa0\x80"}', 8),  # a surrogate's own bytes: json.loads decoded them into a lone surrogate
    (b'{"\xed\xb0\x80": 1}', 2),
])
def test_bytes_that_are_not_utf8_are_a_400_naming_the_byte(raw, at):
    error = refusal(raw)
    assert (error.code, error.details["field"]) == (ErrorCode.INVALID_REQUEST, "body")
    assert "not UTF-8 text" in error.message and f"at byte {at}" in error.message


def test_a_text_read_for_another_field_is_refused_naming_it_with_a_typed_error():
    with pytest.raises(JsonRefused) as raised:
        parse_json(nested(5_000), max_bytes=100_000, max_depth=4, field="cursor")
    assert (raised.value.field, raised.value.limit, raised.value.too_large) == ("cursor", 4, False)

    with pytest.raises(JsonRefused) as raised:
        parse_json("[1]" + " " * 20, max_bytes=10, field="header")
    assert (raised.value.field, raised.value.limit, raised.value.too_large) == ("header", 10, True)

    with pytest.raises(JsonRefused) as raised:
        parse_json('{"a": "\\ud800"}', max_bytes=100, field="claims")
    assert raised.value.field == "claims.a"


def test_a_str_holding_a_lone_surrogate_is_refused_before_parsing():
    with pytest.raises(JsonRefused, match="valid Unicode"):
        parse_json('["\ud800"]', max_bytes=100, field="message")


def test_a_model_is_validated_from_the_text_once_within_budget():
    class Point(BaseModel):
        x: int
        tags: list[str] = []

    assert parse_json_as(Point, b'{"x": 1, "tags": ["a"]}', max_bytes=100) == Point(x=1, tags=["a"])
    assert parse_json_as(TypeAdapter(list[int]), "[1, 2]", max_bytes=100) == [1, 2]
    with pytest.raises(JsonRefused):
        parse_json_as(Point, '{"x": 1, "tags": ' + "[" * 5_000 + "]" * 5_000 + "}", max_bytes=100_000)
    with pytest.raises(ValidationError):
        parse_json_as(Point, b'{"x": "one"}', max_bytes=100)


# --- one reader for every JSON text -------------------------------------------------------------

WORKER_CODE = [ROOT / "shared", ROOT / "api_worker", ROOT / "inference_worker"]
# The build step copies shared/ into each worker (scripts/sync-shared.mjs); pywrangler vendors packages.
NOT_THE_PROJECTS = {"python_modules", "node_modules"}
IMPORTED_PARSERS = {("json", "loads"), ("json", "load"), ("pydantic_core", "from_json")}
PARSERS = {"loads", "load", "model_validate_json", "validate_json", "from_json", "parse"}  # `parse`: JSON.parse through `js`


def worker_modules():
    for root in WORKER_CODE:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(ROOT)
            if NOT_THE_PROJECTS & set(relative.parts) or relative.parts[1:2] == ("shared",):
                continue
            yield relative, ast.parse(path.read_text(), str(path))


def parser_calls(tree: ast.AST):
    """Calls of a JSON parser: json.loads/json.load (or loads/load imported from json),
    X.model_validate_json, X.validate_json, pydantic_core.from_json, JSON.parse."""
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if (node.module, alias.name) in IMPORTED_PARSERS}
    calls = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call)), key=lambda node: (node.lineno, node.col_offset))
    for node in calls:
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in PARSERS:
            owner = function.value.id if isinstance(function.value, ast.Name) else None
            if function.attr in {"model_validate_json", "validate_json"} or owner in {"json", "JSON", "pydantic_core"}:
                yield node.lineno, ast.unparse(function)
        elif isinstance(function, ast.Name) and function.id in imported:
            yield node.lineno, function.id


# JavaScript's JSON.parse (V8's) does not recurse on the stack (it reads a million levels), its
# result stays a JavaScript value handed to a binding, and both of these parse text the module
# wrote just before (json.dumps of Python values, store/vectors.py's vectors).
JS_PARSERS_ALLOWED = {(Path("inference_worker/inference/store/runtime.py"), "JSON.parse")}


def test_every_json_text_in_the_workers_is_parsed_by_the_reader():
    outside = [f"{path}:{line}: {call}" for path, tree in worker_modules() for line, call in parser_calls(tree)
               if path != Path("shared/json_reader.py") and (path, call) not in JS_PARSERS_ALLOWED]
    assert outside == [], "\n".join(outside)


def test_the_parser_listing_finds_what_it_looks_for():
    tree = ast.parse("import json\nfrom json import loads as l\nfrom pydantic_core import from_json\nfrom_json(h)\njson.loads(a)\nl(b)\nM.model_validate_json(c)\n"
                     "TypeAdapter(int).validate_json(d)\nJSON.parse(e)\npydantic_core.from_json(g)\njson.dumps(f)\n")
    assert [call for _, call in parser_calls(tree)] == ["from_json", "json.loads", "l", "M.model_validate_json",
                                                         "TypeAdapter(int).validate_json", "JSON.parse",
                                                         "pydantic_core.from_json"]
