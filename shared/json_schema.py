"""The subset of JSON Schema that structured output needs, checked without a dependency:
type, properties, required, additionalProperties, items, enum, const, anyOf/oneOf, the
numeric, length and size bounds, and `$ref` to a schema elsewhere in the same document
(`#/$defs/...`, as pydantic and OpenAI's SDK write nested models). Unknown keywords are
ignored, as the spec allows; a `$ref` this check cannot follow is refused, never dropped.
`pattern` must be a regular expression and is left to the model (checking an answer against
a client's expression could backtrack for as long as the expression likes)."""

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from shared.json_reader import parse_json
from shared.limits import MAX_BODY_BYTES, MAX_INTERNAL_JSON_DEPTH

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_BOUNDS: dict[str, Callable[[float, float], bool]] = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


MAX_PATTERN_CHARS = 1_000
_UNRESOLVED = object()


def resolve_ref(root: Any, ref: Any) -> Any:
    """The schema a `$ref` names inside `root` (a JSON Pointer after `#`), or _UNRESOLVED."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return _UNRESOLVED
    target = root
    pointer = unquote(ref[1:])
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return _UNRESOLVED
    return target if isinstance(target, dict | bool) else _UNRESOLVED


def _pattern_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        return f"must be a regular expression of at most {MAX_PATTERN_CHARS} characters"
    try:
        re.compile(pattern)
    except (re.error, OverflowError) as exc:
        return f"not a valid regular expression ({exc})"
    except RecursionError:  # the parser recurses once a group
        return "not a valid regular expression (groups nested too deep)"
    return None


def schema_problems(schema: Any, path: str = "", root: Any = None, followed: set[str] | None = None) -> list[str]:
    """Every way `schema` is not a JSON Schema of the subset this module checks, as
    'path: reason' (path relative to the schema, '' for its root). A schema is checked before
    any model is asked to follow it: a malformed one is the client's mistake, not a 500.
    `root` is the document a `$ref` points into; `followed`, the refs already checked."""
    where = path or "schema"
    root = schema if root is None else root
    followed = set() if followed is None else followed
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{where}: must be an object (a JSON Schema)"]
    problems: list[str] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        target = resolve_ref(root, ref)
        if target is _UNRESOLVED:
            problems.append(f"{path}.$ref: must point to a schema in this document (#/$defs/...)".lstrip("."))
        elif ref not in followed:  # a schema a ref names is checked once, wherever it sits
            followed.add(ref)
            problems += schema_problems(target, f"{path}.$ref", root, followed)
    for key in ("$dynamicRef", "$recursiveRef"):
        if key in schema:
            problems.append(f"{path}.{key}: not supported; use $ref".lstrip("."))
    if "pattern" in schema and (problem := _pattern_problem(schema["pattern"])):
        problems.append(f"{path}.pattern: {problem}".lstrip("."))
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not names or not all(isinstance(n, str) and n in _TYPES for n in names):
            problems.append(f"{path}.type: must be one of {', '.join(_TYPES)} (or a list of them)".lstrip("."))
    for key in _BOUNDS:
        if key in schema and not _is_number(schema[key]):
            problems.append(f"{path}.{key}: must be a number".lstrip("."))
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in schema and not _is_count(schema[key]):
            problems.append(f"{path}.{key}: must be a non-negative integer".lstrip("."))
    if "enum" in schema and not isinstance(schema["enum"], list):
        problems.append(f"{path}.enum: must be an array".lstrip("."))
    elif "enum" in schema and not schema["enum"]:  # no value could match: no model can answer it
        problems.append(f"{path}.enum: must list at least one value".lstrip("."))
    if "required" in schema and not (isinstance(schema["required"], list) and all(isinstance(n, str) for n in schema["required"])):
        problems.append(f"{path}.required: must be an array of property names".lstrip("."))
    for key in ("properties", "$defs", "definitions"):
        if key in schema:
            if isinstance(schema[key], dict):
                for name, sub in schema[key].items():
                    problems += schema_problems(sub, f"{path}.{key}.{name}", root, followed)
            else:
                problems.append(f"{path}.{key}: must be an object of schemas".lstrip("."))
    for key in ("items", "additionalProperties"):
        if key in schema:
            problems += schema_problems(schema[key], f"{path}.{key}", root, followed)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            if isinstance(schema[key], list) and schema[key]:
                for index, sub in enumerate(schema[key]):
                    problems += schema_problems(sub, f"{path}.{key}.{index}", root, followed)
            else:
                problems.append(f"{path}.{key}: must be a non-empty array of schemas".lstrip("."))
    return problems


# Subschemas a check of one answer may apply: with `$ref` a schema is a graph, and anyOf over
# refs back to itself would try every branch at every level of the answer (2^depth).
MAX_CHECK_STEPS = 50_000


class _TooComplex(Exception):
    pass


class _Check:
    """One answer's check against one schema: the document its refs point into, and the steps left."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.steps_left = MAX_CHECK_STEPS


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as 'path: reason' strings (empty when it conforms)."""
    try:
        return _validate(value, schema, path, _Check(schema), frozenset())
    except _TooComplex:
        return [f"{path}: the schema takes more than {MAX_CHECK_STEPS} steps to check; simplify its $refs"]


def _validate(value: Any, schema: Any, path: str, check: _Check, refs: frozenset[str]) -> list[str]:
    """`validate`'s work; `refs`: the refs followed at this same place of the value (one that
    leads back to itself adds nothing, and must not loop)."""
    if not isinstance(schema, dict):
        return []
    check.steps_left -= 1
    if check.steps_left < 0:
        raise _TooComplex
    errors: list[str] = []
    if "$ref" in schema and schema["$ref"] not in refs:
        target = resolve_ref(check.root, schema["$ref"])
        if target is not _UNRESOLVED:
            errors += _validate(value, target, path, check, refs | {schema["$ref"]})
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPES.get(name, lambda v: True)(value) for name in names):
            return [*errors, f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: must be one of {schema['enum']!r}")
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema and not any(not _validate(value, sub, path, check, refs) for sub in schema[keyword]):
            errors.append(f"{path}: matches none of {keyword}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        errors += [f"{path}: {key} {schema[key]}" for key, ok in _BOUNDS.items() if key in schema and not ok(value, schema[key])]
    if isinstance(value, str):
        errors += _size(path, len(value), schema, "minLength", "maxLength", "characters")
    if isinstance(value, list):
        errors += _size(path, len(value), schema, "minItems", "maxItems", "items")
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                errors += _validate(item, schema["items"], f"{path}[{index}]", check, frozenset())
    if isinstance(value, dict):
        errors += _object(value, schema, path, check)
    return errors


def _size(path: str, size: int, schema: dict[str, Any], low: str, high: str, unit: str) -> list[str]:
    errors: list[str] = []
    if low in schema and size < schema[low]:
        errors.append(f"{path}: at least {schema[low]} {unit}")
    if high in schema and size > schema[high]:
        errors.append(f"{path}: at most {schema[high]} {unit}")
    return errors


def _object(value: dict[str, Any], schema: dict[str, Any], path: str, check: _Check) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{path}: missing required property {name!r}" for name in schema.get("required", []) if name not in value]
    for name, item in value.items():
        if name in properties:
            errors += _validate(item, properties[name], f"{path}.{name}", check, frozenset())
        elif schema.get("additionalProperties") is False:
            errors.append(f"{path}: unexpected property {name!r}")
    return errors


def parse_model_json(text: str) -> Any:
    """The JSON a model wrote, tolerating a Markdown code fence around it; ValueError when it is
    not JSON or is outside the reader's budget (a schema's levels and a few more)."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return parse_json(stripped, max_bytes=MAX_BODY_BYTES, max_depth=MAX_INTERNAL_JSON_DEPTH, field="answer")


def instruction(schema: dict[str, Any]) -> str:
    """The system prompt that asks a model for JSON matching `schema`."""
    return (
        "Answer with one JSON value and nothing else: no prose, no Markdown. "
        f"It must conform to this JSON Schema: {json.dumps(schema, separators=(',', ':'))}"
    )
