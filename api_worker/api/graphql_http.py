"""GraphQL over HTTP (the GraphQL-over-HTTP spec), the part that needs no runtime: a request's
parameters (a POST's JSON body, or a GET's query string), the media type of the answer, whether
the operation may run over GET, the errors that stop a request before it executes, and every
error in GraphQL's shape with its `extensions.code`."""

from typing import Any

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from graphql.execution import get_variable_values
from pydantic import Field

from api.bodies import validated
from api.negotiation import preferred_type
from api.schema import schema
from shared.base import Model
from shared.errors import ApiError, ErrorCode
from shared.json_reader import JsonRefused, parse_json

MAX_QUERY_BYTES = 100_000  # the query text
MAX_VARIABLES_BYTES = 100_000  # the variables' JSON text, in a body or a query string

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# What /graphql answers in. application/json first: what a client that names neither (no
# Accept header, or `*/*`) is given, as the spec says, for the clients written before the other.
ANSWER_TYPES = (JSON, GRAPHQL_RESPONSE)


class GraphQLBody(Model):
    query: str = Field(min_length=1, max_length=MAX_QUERY_BYTES)
    variables: dict[str, Any] | None = None
    operationName: str | None = None


def body_from_query_string(params: dict[str, str]) -> GraphQLBody:
    """A GET's `query`, `variables` (JSON text, read by the project's one JSON reader) and
    `operationName`, or the 4xx naming the parameter that is wrong."""
    variables = params.get("variables")
    if variables is not None:
        try:
            variables = parse_json(variables, max_bytes=MAX_VARIABLES_BYTES, field="variables")
        except JsonRefused as refused:
            raise refused.api_error() from None
    return validated(GraphQLBody, {"query": params.get("query"), "variables": variables, "operationName": params.get("operationName")})


def answer_type(accept: str | None) -> str:
    """The media type of the answer: the one the client prefers, application/json if it accepts neither."""
    return preferred_type(accept, ANSWER_TYPES) or JSON


def is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation that would run is a mutation (which a GET must not run)."""
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION


def request_errors(document: DocumentNode, body: GraphQLBody) -> list[GraphQLError]:
    """What stops a valid document from executing at all: no operation to run, or variables
    that do not fit their types (request errors, as against errors of fields as they run)."""
    operation = get_operation_ast(document, body.operationName)
    if operation is None:
        name = body.operationName
        return [GraphQLError(f"Unknown operation named '{name}'." if name else
                             "Must provide operation name if query contains multiple operations.")]
    coerced = get_variable_values(schema, operation.variable_definitions or (), body.variables or {})
    return coerced if isinstance(coerced, list) else []


def formatted_error(error: GraphQLError) -> dict[str, Any]:
    """The error in GraphQL's shape, `extensions.code` one of shared/errors.py's codes: the
    resolver's own error's, `invalid_request` for what the client sent (syntax, validation,
    variables), `internal_error` (and a log line, not the exception's text) for anything else."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, ApiError):
        formatted["message"] = original.message
        formatted["extensions"] = {"code": str(original.code), **{k: v for k, v in original.details.items() if isinstance(v, str | int)}}
    elif original is None or isinstance(original, GraphQLError):
        formatted["extensions"] = {**formatted.get("extensions", {}), "code": str(ErrorCode.INVALID_REQUEST)}
    else:
        print(f"graphql resolver failed: {type(original).__name__}: {original}")
        formatted["message"] = "Internal error"
        formatted["extensions"] = {"code": str(ErrorCode.INTERNAL)}
    return formatted


def refused_over_get() -> dict[str, Any]:
    """The answer to a mutation sent with GET (with a 405 and `Allow: POST`): nothing runs."""
    return {"errors": [{"message": "A mutation must be sent with POST", "extensions": {"code": str(ErrorCode.METHOD_NOT_ALLOWED)}}]}
