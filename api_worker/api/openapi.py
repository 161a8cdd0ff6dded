"""The OpenAPI 3.1 document of the api's REST routes, made from the route table (api/routes.py:
a route without an entry in OPERATIONS is an error, so none goes undocumented), the request
bodies' models (api/bodies.py: pydantic's JSON Schemas, so a field added to a body is in the
document), the answers' models or shapes (api/openapi_shapes.py), the error shape with its codes
(shared/errors.py) and the credentials each route needs.

GET /openapi.json serves it, made once at import (in the worker's top level, which the snapshot
an isolate is restored from holds: api/app.py); `make openapi` writes it to docs/openapi.json
(scripts/openapi.py)."""

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from api import bodies
from api.openapi_shapes import JSON, SHAPES, array, obj, ref
from api.refusals import (
    OPENAI_ACCEPTED_UNUSED,
    OPENAI_COMPLETION_DEFAULT_ONLY,
    OPENAI_DEFAULT_ONLY,
    OPENAI_RESPONSES_ACCEPTED_UNUSED,
    OPENAI_RESPONSES_DEFAULT_ONLY,
)
from api.router import Route
from api.routes import router
from shared import __version__
from shared.contract import UsageReport
from shared.documents import DocumentIn
from shared.errors import STATUS_BY_CODE, ErrorCode
from shared.events import EventIn

TITLE = "inference-ui-api"
# Server-sent events, each event's data a JSON text (or [DONE]), checked event by event.
SSE: JSON = obj({"data": {"type": "string"}}, {"event": {"type": "string"}, "id": {"type": "string"}})
TEXT: JSON = {"type": "string"}


@dataclass(frozen=True)
class Operation:
    summary: str
    # Status -> content type -> schema: a model (its JSON Schema, in components), or a schema.
    answers: dict[int, dict[str, Any]]
    body: dict[str, Any] | None = None  # content type -> model or schema
    query: dict[str, JSON] = field(default_factory=dict)  # optional query parameters
    errors: tuple[int, ...] = ()  # statuses besides those every route like it answers


def _json(schema: Any) -> dict[str, Any]:
    return {"application/json": schema}


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation("Both workers' status and each binding's check",
                                  {200: _json(ref("Health")), 503: _json(ref("Health"))},
                                  query={"deep": {"enum": ["1", "true"], "description": "the deep check (admin token)"}},
                                  errors=(401,)),
    ("GET", "/openapi.json"): Operation("This document", {200: _json({"type": "object"})}),
    ("POST", "/stream/chat"): Operation("Chat, as the AI SDK UI message stream (useChat)",
                                        {200: {"text/event-stream": SSE}}, _json(bodies.ChatBody)),
    ("POST", "/stream/completion"): Operation(
        "Completion (useCompletion): the UI message stream, or plain text with ?protocol=text",
        {200: {"text/event-stream": SSE, "text/plain": TEXT}}, _json(bodies.CompletionBody),
        query={"protocol": {"enum": ["data", "text"]}}),
    ("POST", "/stream/object"): Operation("A JSON object as it is generated (useObject)",
                                          {200: {"text/plain": TEXT}}, _json(bodies.ObjectBody)),
    ("POST", "/v1/chat/completions"): Operation("OpenAI chat completions, streamed or not",
                                                {200: {**_json(ref("ChatCompletion")), "text/event-stream": SSE}},
                                                _json(bodies.OpenAIChatBody)),
    ("POST", "/v1/responses"): Operation("OpenAI responses (stateless: nothing stored), streamed or not",
                                         {200: {**_json(ref("Response")), "text/event-stream": SSE}},
                                         _json(bodies.OpenAIResponsesBody)),
    ("POST", "/v1/completions"): Operation("OpenAI (legacy) completions, streamed or not",
                                           {200: {**_json(ref("TextCompletion")), "text/event-stream": SSE}},
                                           _json(bodies.OpenAICompletionBody)),
    ("POST", "/v1/embeddings"): Operation("OpenAI embeddings", {200: _json(ref("EmbeddingList"))}, _json(bodies.EmbeddingsBody)),
    ("GET", "/v1/models"): Operation("The model catalog, with prices and capabilities", {200: _json(ref("ModelList"))}),
    ("GET", "/v1/models/{model:path}"): Operation("One model, by its id (slashes included) or an alias",
                                                  {200: _json(ref("Model"))}),
    ("GET", "/v1/usage"): Operation("The caller's usage, limits and spend", {200: _json(UsageReport)}),
    ("POST", "/events"): Operation("A batch of UI events", {202: _json(ref("EventBatchAccepted"))},
                                   _json({"anyOf": [array(EventIn), obj({"events": array(EventIn)})]})),
    ("GET", "/events/batches/{batch_id}"): Operation("A batch as indexed", {200: _json(ref("EventBatchStatus"))}),
    ("POST", "/v1/documents"): Operation(
        "A document for retrieval: JSON, or its text with ?title=", {201: _json(ref("Document"))},
        {**_json(DocumentIn), "text/plain": TEXT, "text/markdown": TEXT}, query={"title": {"type": "string"}},
        errors=(409,)),
    ("GET", "/v1/documents"): Operation("The caller's documents", {200: _json(ref("DocumentList"))}),
    ("GET", "/v1/documents/{id}"): Operation("A document", {200: _json(ref("Document"))}),
    ("DELETE", "/v1/documents/{id}"): Operation("Deletes a document", {200: _json(ref("DocumentDeleted"))}),
    ("POST", "/v1/documents/{id}/resume"): Operation("Finishes a document whose ingestion failed",
                                                     {200: _json(ref("Document"))}),
    ("GET", "/graphql"): Operation(
        "GraphQL over HTTP GET: a query (never a mutation: 405) from the query string; a browser asking for "
        "text/html is redirected to /graphiql",
        {200: {**_json(ref("GraphQLAnswer")), "application/graphql-response+json": ref("GraphQLAnswer")},
         302: {"text/html": TEXT},
         400: {**_json({"anyOf": [ref("GraphQLErrors"), ref("Error")]}), "application/graphql-response+json": ref("GraphQLErrors")},
         405: _json(ref("GraphQLErrors"))},
        query={"query": {"type": "string"}, "variables": {"type": "string", "description": "JSON text"},
               "operationName": {"type": "string"}}),
    ("POST", "/graphql"): Operation("GraphQL: a query's errors in GraphQL's shape, a body that is not a GraphQL request in the API's",
                                    {200: _json(ref("GraphQLAnswer")), 400: _json({"anyOf": [ref("GraphQLErrors"), ref("Error")]})},
                                    _json(ref("GraphQLRequest"))),
}

# Statuses a code is answered with besides its own (STATUS_BY_CODE): the model a path names.
EXTRA_STATUSES = {ErrorCode.MODEL_NOT_FOUND: (404,)}
# What a generation or any call to the inference service may answer: it failed, or did not in time.
UPSTREAM = (502, 503, 504)


def _codes_by_status() -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    for code, status in STATUS_BY_CODE.items():
        for answered in (status, *EXTRA_STATUSES.get(code, ())):
            codes.setdefault(answered, []).append(str(code))
    return codes


def _error_statuses(route: Route, operation: Operation) -> list[int]:
    statuses = {500, *operation.errors}
    if not route.public:
        statuses |= {401, 429, *UPSTREAM}
    if route.kind == "ai" or route.admin:
        statuses.add(403)  # a model the caller's tier may not use; the admin API
    if operation.body is not None:
        statuses |= {400, 413}
    if "{" in route.path:
        statuses.add(404)
    return sorted(statuses - set(operation.answers))


def _path_of(route: Route) -> str:
    return route.path.replace(":path}", "}")


def _parameters(route: Route, operation: Operation) -> list[JSON]:
    names = [segment[1:-1] for segment in route.path.split("/") if segment.startswith("{")]
    params = [{"name": name.removesuffix(":path"), "in": "path", "required": True,
               "schema": {"type": "string", "minLength": 1},
               **({"description": "may hold slashes, as they are or escaped (%2F)"} if name.endswith(":path") else {})}
              for name in names]
    return params + [{"name": name, "in": "query", "required": False, "schema": schema}
                     for name, schema in operation.query.items()]


class _Schemas:
    """The models a document names, each once in components.schemas, in pydantic's JSON Schema."""

    def __init__(self) -> None:
        self.adapters: dict[str, TypeAdapter] = {}

    def of(self, source: Any) -> JSON:
        if isinstance(source, type):
            self.adapters.setdefault(source.__name__, TypeAdapter(source))
            return ref(source.__name__)
        if isinstance(source, dict):
            return {key: self.of(value) for key, value in source.items()}
        if isinstance(source, list):
            return [self.of(item) for item in source]
        return source

    def components(self) -> dict[str, JSON]:
        inputs = [(name, "validation", adapter) for name, adapter in self.adapters.items()]
        _, definitions = TypeAdapter.json_schemas(inputs, ref_template="#/components/schemas/{model}")
        return definitions.get("$defs", {})


def _openai_accepted(schema: JSON, accepted_unused: frozenset[str], default_only: dict[str, tuple[Any, ...]]) -> None:
    """OpenAI's fields that a body takes out before validation (api/refusals.py), in its schema:
    identifiers accepted and recorded nowhere, and fields accepted with their default only."""
    properties = schema.setdefault("properties", {})
    for name in sorted(accepted_unused):
        properties[name] = {"description": "accepted; changes nothing"}
    for name, values in default_only.items():
        properties[name] = {"enum": [*values, None], "description": "accepted with its default only"}


def _error_components() -> tuple[dict[str, JSON], dict[str, JSON]]:
    detail = obj({"field": {"type": "string"}, "message": {"type": "string"}})
    error = obj({"code": ref("ErrorCode"), "message": {"type": "string"}},
                {"field": {"type": ["string", "null"]}, "reason": {"type": "string"}, "errors": array(detail)})
    openai_error = {**error, "required": [*error["required"], "type", "param"],
                    "properties": {**error["properties"], "type": {"type": "string"}, "param": {"type": ["string", "null"]}}}
    schemas = {"ErrorCode": {"enum": [str(code) for code in ErrorCode]},
               "Error": obj({"error": error}), "OpenAIError": obj({"error": openai_error})}
    responses = {}
    for status, codes in sorted(_codes_by_status().items()):
        for name in ("Error", "OpenAIError"):
            responses[f"{name}{status}"] = {
                "description": f"{', '.join(codes)}",
                "content": {"application/json": {"schema": {
                    "allOf": [ref(name)], "properties": {"error": {"properties": {"code": {"enum": codes}}}}}}}}
    return schemas, responses


def document() -> JSON:
    schemas = _Schemas()
    paths: dict[str, JSON] = {}
    for route in router.routes():
        operation = OPERATIONS.get((route.method, route.path))
        if operation is None:
            raise LookupError(f"{route.method} {route.path} has no entry in api/openapi.py OPERATIONS")
        error = "OpenAIError" if route.path.startswith("/v1/") else "Error"
        responses: JSON = {str(status): {"description": "OK" if status < 300 else "See the body",
                                         "content": {kind: {"schema": schemas.of(schema)} for kind, schema in content.items()}}
                           for status, content in operation.answers.items()}
        for status in _error_statuses(route, operation):
            responses[str(status)] = {"$ref": f"#/components/responses/{error}{status}"}
        name = "_".join(part.strip("{}") for part in _path_of(route).strip("/").split("/"))
        entry: JSON = {"operationId": f"{route.method.lower()}_{name}",
                       "summary": operation.summary, "responses": responses}
        if parameters := _parameters(route, operation):
            entry["parameters"] = parameters
        if operation.body is not None:
            entry["requestBody"] = {"required": True, "content": {kind: {"schema": schemas.of(schema)}
                                                                  for kind, schema in operation.body.items()}}
        if route.public:
            entry["security"] = []
        paths.setdefault(_path_of(route), {})[route.method.lower()] = entry
    components = schemas.components()
    _openai_accepted(components["OpenAIChatBody"], OPENAI_ACCEPTED_UNUSED, OPENAI_DEFAULT_ONLY)
    _openai_accepted(components["OpenAICompletionBody"], frozenset({"user"}), OPENAI_COMPLETION_DEFAULT_ONLY)
    _openai_accepted(components["OpenAIResponsesBody"], OPENAI_RESPONSES_ACCEPTED_UNUSED, OPENAI_RESPONSES_DEFAULT_ONLY)
    error_schemas, error_responses = _error_components()
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__,
                 "description": "Every error has the shape {\"error\": {\"code\", \"message\", ...}}; under /v1 it also "
                                "carries OpenAI's `type` and `param`."},
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (iui_...) or an HS256 JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
            "schemas": {**components, **SHAPES, **error_schemas},
            "responses": error_responses,
        },
    }


# The document as served and as written to docs/openapi.json.
DOCUMENT_TEXT = json.dumps(document(), indent=2, sort_keys=False) + "\n"


async def get_openapi(call: Any) -> Any:
    return call.json_text(DOCUMENT_TEXT)
