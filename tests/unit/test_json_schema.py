import pytest

from shared.json_schema import parse_model_json, schema_problems, validate

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "mood": {"enum": ["happy", "sad"]},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_a_conforming_value_has_no_errors():
    assert validate({"name": "Ada", "age": 36, "tags": ["x"], "mood": "happy"}, SCHEMA) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "Ada"}, "$: missing required property 'age'"),
        ({"name": "A", "age": 1}, "$.name: at least 2 characters"),
        ({"name": "Ada", "age": -1}, "$.age: minimum 0"),
        ({"name": "Ada", "age": True}, "$.age: expected integer, got bool"),
        ({"name": "Ada", "age": 1, "tags": ["a", 2]}, "$.tags[1]: expected string, got int"),
        ({"name": "Ada", "age": 1, "tags": ["a", "b", "c"]}, "$.tags: at most 2 items"),
        ({"name": "Ada", "age": 1, "mood": "meh"}, "$.mood: must be one of ['happy', 'sad']"),
        ({"name": "Ada", "age": 1, "extra": 1}, "$: unexpected property 'extra'"),
        ([], "$: expected object, got list"),
    ],
)
def test_each_violation_is_reported_with_its_path(value, expected):
    assert expected in validate(value, SCHEMA)


def test_model_json_may_come_in_a_code_fence():
    assert parse_model_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_model_json(' {"a": [1]} ') == {"a": [1]}
    with pytest.raises(ValueError):
        parse_model_json("Sure! Here is the JSON")


def test_a_schema_of_the_subset_has_no_problems():
    schema = {"type": "object", "properties": {"n": {"type": ["integer", "null"], "minimum": 0, "maximum": 9.5},
                                               "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3}},
              "required": ["n"], "additionalProperties": False, "anyOf": [{"required": ["n"]}, True]}
    assert schema_problems(schema) == []


@pytest.mark.parametrize(("schema", "problem"), [
    (5, "schema: must be an object (a JSON Schema)"),
    ({"type": "number", "maximum": [1]}, "maximum: must be a number"),
    ({"type": "decimal"}, "type: must be one of"),
    ({"type": "string", "minLength": -1}, "minLength: must be a non-negative integer"),
    ({"properties": {"a": {"items": {"type": 7}}}}, "properties.a.items.type: must be one of"),
    ({"required": "a"}, "required: must be an array of property names"),
    ({"anyOf": []}, "anyOf: must be a non-empty array of schemas"),
    ({"type": "integer", "enum": []}, "enum: must list at least one value"),
    ({"maximum": True}, "maximum: must be a number"),
])
def test_a_malformed_schema_is_named_where_it_breaks(schema, problem):
    assert schema_problems(schema)[0].startswith(problem)
