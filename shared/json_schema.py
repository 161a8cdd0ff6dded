"""The subset of JSON Schema that structured output needs, checked without a dependency:
type, properties, required, additionalProperties, items, enum, const, anyOf/oneOf, and the
numeric, length and size bounds. Unknown keywords are ignored, as the spec allows."""

import json
from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_BOUNDS = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def schema_problems(schema: Any, path: str = "") -> list[str]:
    """Every way `schema` is not a JSON Schema of the subset this module checks, as
    'path: reason' (path relative to the schema, '' for its root). A schema is checked before
    any model is asked to follow it: a malformed one is the client's mistake, not a 500."""
    where = path or "schema"
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{where}: must be an object (a JSON Schema)"]
    problems: list[str] = []
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
    if "properties" in schema:
        if isinstance(schema["properties"], dict):
            for name, sub in schema["properties"].items():
                problems += schema_problems(sub, f"{path}.properties.{name}")
        else:
            problems.append(f"{path}.properties: must be an object of schemas".lstrip("."))
    for key in ("items", "additionalProperties"):
        if key in schema:
            problems += schema_problems(schema[key], f"{path}.{key}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            if isinstance(schema[key], list) and schema[key]:
                for index, sub in enumerate(schema[key]):
                    problems += schema_problems(sub, f"{path}.{key}.{index}")
            else:
                problems.append(f"{path}.{key}: must be a non-empty array of schemas".lstrip("."))
    return problems


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as 'path: reason' strings (empty when it conforms)."""
    if not isinstance(schema, dict):
        return []
    errors: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPES.get(name, lambda v: True)(value) for name in names):
            return [f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: must be one of {schema['enum']!r}")
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema and not any(not validate(value, sub, path) for sub in schema[keyword]):
            errors.append(f"{path}: matches none of {keyword}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        errors += [f"{path}: {key} {schema[key]}" for key, ok in _BOUNDS.items() if key in schema and not ok(value, schema[key])]
    if isinstance(value, str):
        errors += _size(path, len(value), schema, "minLength", "maxLength", "characters")
    if isinstance(value, list):
        errors += _size(path, len(value), schema, "minItems", "maxItems", "items")
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                errors += validate(item, schema["items"], f"{path}[{index}]")
    if isinstance(value, dict):
        errors += _object(value, schema, path)
    return errors


def _size(path: str, size: int, schema: dict, low: str, high: str, unit: str) -> list[str]:
    errors = []
    if low in schema and size < schema[low]:
        errors.append(f"{path}: at least {schema[low]} {unit}")
    if high in schema and size > schema[high]:
        errors.append(f"{path}: at most {schema[high]} {unit}")
    return errors


def _object(value: dict, schema: dict, path: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{path}: missing required property {name!r}" for name in schema.get("required", []) if name not in value]
    for name, item in value.items():
        if name in properties:
            errors += validate(item, properties[name], f"{path}.{name}")
        elif schema.get("additionalProperties") is False:
            errors.append(f"{path}: unexpected property {name!r}")
    return errors


def parse_model_json(text: str) -> Any:
    """The JSON a model wrote, tolerating a Markdown code fence around it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return json.loads(stripped)


def instruction(schema: dict[str, Any]) -> str:
    """The system prompt that asks a model for JSON matching `schema`."""
    return (
        "Answer with one JSON value and nothing else: no prose, no Markdown. "
        f"It must conform to this JSON Schema: {json.dumps(schema, separators=(',', ':'))}"
    )
