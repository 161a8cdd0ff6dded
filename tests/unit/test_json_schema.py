import pytest

from shared.json_schema import MAX_CHECK_STEPS, parse_model_json, schema_problems, validate

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


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "string", "pattern": "("}, "pattern: not a valid regular expression"),
    ({"properties": {"code": {"type": "string", "pattern": "[a-"}}}, "properties.code.pattern: not a valid regular expression"),
    ({"type": "string", "pattern": 5}, "pattern: must be a regular expression"),
    ({"type": "string", "pattern": "(" * 5_000 + ")" * 5_000}, "pattern: must be a regular expression of at most"),
    ({"$ref": "https://example.com/schema.json"}, "$ref: must point to a schema in this document"),
    ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "properties.a.$ref: must point to a schema in this document"),
    ({"$ref": "#/$defs/a", "$defs": {"a": {"type": "number", "maximum": "9"}}}, "$defs.a.maximum: must be a number"),
    ({"$ref": 7}, "$ref: must point to a schema in this document"),
    ({"$dynamicRef": "#meta"}, "$dynamicRef: not supported"),
])
def test_a_pattern_or_ref_this_check_cannot_honour_is_named(schema, problem):
    assert any(found.startswith(problem) for found in schema_problems(schema)), schema_problems(schema)


NESTED_MODELS = {  # as pydantic (and OpenAI's SDK) write a model with a nested one
    "type": "object",
    "properties": {"owner": {"$ref": "#/$defs/Person"}, "friends": {"type": "array", "items": {"$ref": "#/$defs/Person"}}},
    "required": ["owner"],
    "$defs": {"Person": {"type": "object", "properties": {"name": {"type": "string"}, "boss": {"$ref": "#/$defs/Person"}},
                         "required": ["name"], "additionalProperties": False}},
}


def test_a_local_ref_is_followed_when_checking_an_answer():
    assert schema_problems(NESTED_MODELS) == []
    assert validate({"owner": {"name": "Ada", "boss": {"name": "Bo"}}, "friends": [{"name": "Cy"}]}, NESTED_MODELS) == []
    assert "$.owner.boss: missing required property 'name'" in validate({"owner": {"name": "Ada", "boss": {}}}, NESTED_MODELS)
    assert "$.friends[0]: unexpected property 'age'" in validate({"owner": {"name": "A"}, "friends": [{"name": "C", "age": 3}]},
                                                                 NESTED_MODELS)


def test_refs_that_lead_back_to_themselves_neither_loop_nor_fail():
    schema = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a", "type": "integer"}}}
    assert schema_problems(schema) == []
    assert validate(3, schema) == []
    assert validate("x", schema) == ["$: expected integer, got str"]
    assert validate({"n": 1}, {"$ref": "#"}) == []


def test_a_valid_pattern_passes_the_check():
    assert schema_problems({"type": "string", "pattern": r"^\d{3}-[a-z]+$"}) == []


def test_a_model_answer_nested_thousands_deep_is_not_json_to_the_check():
    with pytest.raises(ValueError, match="nests deeper than"):
        parse_model_json("[" * 5_000 + "]" * 5_000)


def test_refs_that_branch_at_every_level_are_checked_within_a_bounded_number_of_steps():
    # anyOf over two refs back to the root: every level of the answer doubles the branches to try
    schema = {"anyOf": [{"$ref": "#/$defs/list"}, {"$ref": "#/$defs/list"}],
              "$defs": {"list": {"type": "array", "items": {"$ref": "#"}, "maxItems": 0}}}
    value: list = []
    for _ in range(40):
        value = [value]

    assert schema_problems(schema) == []
    assert validate(value, schema) == [f"$: the schema takes more than {MAX_CHECK_STEPS} steps to check; simplify its $refs"]
    assert validate([], schema) == []
