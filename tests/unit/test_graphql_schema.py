from graphql import parse, validate

from api.schema import MAX_ALIASES, MAX_DEPTH, MAX_LIST_ARGUMENT, schema, selects_static_fields_only, validation_rules


def errors(query: str, introspection: bool = True) -> list[str]:
    return [e.message for e in validate(schema, parse(query), validation_rules(introspection))]


def test_a_plain_query_is_valid():
    assert errors("{ models { id } usage { limits { tokensPerDay } window { remaining } } }") == []


def test_a_query_deeper_than_the_limit_is_refused():
    # Fragments cannot hide depth: they are followed.
    query = "query { ...A } fragment A on Query { usage { limits { allowedModels } } }"
    assert errors(query) == []
    nested = "{ __schema { types { fields { type " + "{ ofType " * 12 + "{ name }" + " }" * 12 + " } } } }"
    assert any(f"limit is {MAX_DEPTH}" in e for e in errors(nested))


def test_too_many_aliases_are_refused():
    query = "{ " + " ".join(f"m{i}: models {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert any("aliases" in e for e in errors(query))


def test_introspection_can_be_turned_off():
    assert errors("{ __schema { queryType { name } } }") == []
    assert errors("{ __schema { queryType { name } } }", introspection=False) != []


def test_only_queries_of_the_catalog_or_the_schema_count_as_static():
    static = lambda query, name=None: selects_static_fields_only(parse(query), name)  # noqa: E731

    assert static("{ models { id } }") and static("query Q { __typename m: models { id ownedBy } }")
    assert static("query A { models { id } } query B { usage { costUsd } }", "A")
    assert not static("query A { models { id } } query B { usage { costUsd } }", "B")
    assert not static("query A { models { id } } query B { models { id } }")  # which one runs is not said
    assert not static("{ models { id } usage { costUsd } }")
    assert not static("{ ...F } fragment F on Query { models { id } }")  # fragments at the root: not looked into
    assert not static('mutation { createApiKey(name: "x") { key } }')


def test_a_list_longer_than_the_limit_is_refused_when_asked_for_literally():
    assert errors(f"{{ events(first: {MAX_LIST_ARGUMENT}) {{ edges {{ cursor }} }} }}") == []
    assert errors(f"{{ events(first: {MAX_LIST_ARGUMENT + 1}) {{ edges {{ cursor }} }} }}") == [f"first may be at most {MAX_LIST_ARGUMENT}"]
