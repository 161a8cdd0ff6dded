"""GraphQL over HTTP's pure part: which media type a client gets, a GET's parameters, what may
run over GET, and an error code on every error."""

import pytest
from graphql import parse, validate

from api.graphql_http import (
    GRAPHQL_RESPONSE,
    JSON,
    answer_type,
    body_from_query_string,
    formatted_error,
    is_mutation,
    request_errors,
)
from api.negotiation import preferred_type
from api.schema import schema, validation_rules
from shared.errors import ApiError

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
URQL = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"


@pytest.mark.parametrize(("accept", "expected"), [
    (None, JSON), ("", JSON), ("*/*", JSON), ("application/json", JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (URQL, GRAPHQL_RESPONSE),
    ("application/json, application/graphql-response+json;q=0.9", JSON),
    ("application/*;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE),
    ("text/plain", JSON),  # accepts neither: application/json, which the spec allows
])
def test_the_answer_is_in_the_type_the_client_prefers(accept, expected):
    assert answer_type(accept) == expected


def test_a_browser_prefers_the_page_and_a_script_the_json():
    offered = ("application/json", "text/html")
    assert preferred_type(BROWSER, offered) == "text/html"
    assert preferred_type("*/*", offered) == "application/json"
    assert preferred_type("application/json, text/html;q=0", offered) == "application/json"
    assert preferred_type("text/html;q=0, application/json;q=0", offered) is None
    assert preferred_type("garbage, text/html;q=nope", offered) is None


def test_a_gets_variables_are_json_text_read_under_the_readers_budget():
    body = body_from_query_string({"query": "{ models { id } }", "variables": '{"n": 1}', "operationName": "Q"})
    assert (body.variables, body.operationName) == ({"n": 1}, "Q")

    for variables, said in (("{nope", "not valid JSON"), ("[" * 40 + "]" * 40, "nests deeper than 32"), ("[1]", "valid dictionary")):
        with pytest.raises(ApiError) as refused:
            body_from_query_string({"query": "{ models { id } }", "variables": variables})
        assert refused.value.details["field"] == "variables" and said in refused.value.message
    with pytest.raises(ApiError) as refused:
        body_from_query_string({})
    assert refused.value.details["field"] == "query"


def test_only_a_mutation_that_would_run_is_one():
    document = parse("query Q { models { id } } mutation M { revokeApiKey(id: \"k\") }")
    assert is_mutation(document, "M") and not is_mutation(document, "Q")
    assert not is_mutation(document, None)  # which one runs is not said: a request error, not a mutation


def test_request_errors_are_those_that_stop_execution():
    body = body_from_query_string({"query": "query($n: Int) { events(first: $n) { edges { cursor } } }", "variables": '{"n": "x"}'})
    assert [e.message for e in request_errors(parse(body.query), body)] == [
        "Variable '$n' has invalid value: Int cannot represent non-integer value: 'x'"]
    two = body_from_query_string({"query": "query A { models { id } } query B { models { id } }"})
    assert "operation name" in request_errors(parse(two.query), two)[0].message
    fine = body_from_query_string({"query": "query($n: Int) { events(first: $n) { edges { cursor } } }", "variables": '{"n": 3}'})
    assert request_errors(parse(fine.query), fine) == []


def test_validation_errors_carry_a_code():
    errors = validate(schema, parse("{ nope }"), validation_rules(True))
    assert formatted_error(errors[0])["extensions"] == {"code": "invalid_request"}
