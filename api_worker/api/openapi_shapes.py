"""The JSON Schemas of the answers that no model describes (the handlers write them as dicts),
for the OpenAPI document (api/openapi.py). Minimal: the fields a client relies on, each with its
type; an answer may carry more (clients ignore fields they do not know)."""

from typing import Any

JSON = dict[str, Any]

STRING: JSON = {"type": "string"}
INTEGER: JSON = {"type": "integer"}
NUMBER: JSON = {"type": "number"}
BOOLEAN: JSON = {"type": "boolean"}
OBJECT: JSON = {"type": "object"}


def nullable(schema: JSON) -> JSON:
    return {"anyOf": [schema, {"type": "null"}]}


def const(value: Any) -> JSON:
    return {"const": value}


def array(items: JSON) -> JSON:
    return {"type": "array", "items": items}


def obj(required: dict[str, JSON], optional: dict[str, JSON] | None = None) -> JSON:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


TOKEN_USAGE = obj({"prompt_tokens": INTEGER, "completion_tokens": INTEGER, "total_tokens": INTEGER})

SHAPES: dict[str, JSON] = {
    "Health": obj({"service": STRING, "version": STRING, "runtime": STRING, "request_id": STRING,
                   "status": {"enum": ["ok", "degraded", "down"]}, "inference": OBJECT}),
    "Model": obj({"id": STRING, "object": const("model"), "created": INTEGER, "owned_by": STRING,
                  "pricing": obj({"input": NUMBER, "output": NUMBER})},
                 {"capabilities": obj({"tools": BOOLEAN, "vision": BOOLEAN, "json_mode": BOOLEAN, "tool_streaming": BOOLEAN,
                                       "context_window": INTEGER, "options": array(STRING)})}),
    "ModelList": obj({"object": const("list"), "data": array(ref("Model"))}),
    "ChatCompletion": obj({"id": STRING, "object": const("chat.completion"), "created": INTEGER, "model": STRING,
                           "choices": array(obj({"index": INTEGER, "finish_reason": STRING,
                                                 "message": obj({"role": const("assistant"), "content": nullable(STRING)})})),
                           "usage": TOKEN_USAGE},
                          {"sources": array(OBJECT)}),
    "Response": obj({"id": STRING, "object": const("response"), "created_at": INTEGER, "model": STRING,
                     "status": {"enum": ["completed", "incomplete"]}, "store": const(False),
                     "output": array({"anyOf": [
                         obj({"type": const("message"), "id": STRING, "role": const("assistant"), "status": STRING,
                              "content": array(obj({"type": const("output_text"), "text": STRING,
                                                    "annotations": array(OBJECT)}))}),
                         obj({"type": const("function_call"), "id": STRING, "call_id": STRING, "name": STRING,
                              "arguments": STRING, "status": STRING})]}),
                     "usage": obj({"input_tokens": INTEGER, "output_tokens": INTEGER, "total_tokens": INTEGER})}),
    "TextCompletion": obj({"id": STRING, "object": const("text_completion"), "created": INTEGER, "model": STRING,
                           "choices": array(obj({"index": INTEGER, "text": STRING, "finish_reason": STRING,
                                                 "logprobs": {"type": "null"}})),
                           "usage": TOKEN_USAGE}),
    "EmbeddingList": obj({"object": const("list"), "model": STRING,
                          "data": array(obj({"object": const("embedding"), "index": INTEGER,
                                             "embedding": {"anyOf": [array(NUMBER), STRING]}})),
                          "usage": obj({"prompt_tokens": INTEGER, "total_tokens": INTEGER})}),
    "Document": obj({"object": const("document"), "id": STRING, "title": STRING, "bytes": INTEGER, "passages": INTEGER,
                     "embedded": INTEGER, "status": STRING, "created_at": STRING},
                    {"metadata": nullable(OBJECT), "error": nullable(STRING)}),
    "DocumentList": obj({"object": const("list"), "data": array(ref("Document"))}),
    "DocumentDeleted": obj({"id": STRING, "object": const("document"), "deleted": const(True)}),
    "EventBatchAccepted": obj({"batchId": STRING, "status": STRING, "indexed": BOOLEAN, "queued": BOOLEAN,
                               "accepted": INTEGER, "duplicates": nullable(INTEGER),
                               "rejected": array(obj({"index": INTEGER, "field": STRING, "message": STRING}))}),
    "EventBatchStatus": obj({"batchId": STRING, "indexed": BOOLEAN, "received": nullable(INTEGER),
                             "accepted": nullable(INTEGER), "duplicates": nullable(INTEGER), "indexedAt": nullable(STRING)}),
    "GraphQLRequest": obj({"query": {"type": "string", "minLength": 1}},
                          {"variables": nullable(OBJECT), "operationName": nullable(STRING)}),
    "GraphQLAnswer": obj({}, {"data": nullable(OBJECT), "errors": array(obj({"message": STRING}))}),
    "GraphQLErrors": obj({"errors": array(obj({"message": STRING}))}),
}
