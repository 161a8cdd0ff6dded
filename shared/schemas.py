"""JSON Schemas a client may name (`schemaName`) instead of sending one with each request."""

from typing import Any

NAMED_SCHEMAS: dict[str, dict[str, Any]] = {
    "sentiment": {
        "type": "object",
        "properties": {
            "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["sentiment", "confidence"],
        "additionalProperties": False,
    },
    "summary": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "points": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["title", "points"],
        "additionalProperties": False,
    },
}
