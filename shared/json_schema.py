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
