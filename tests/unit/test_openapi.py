"""The OpenAPI document: every route of the table in it with its errors and credentials, the
request bodies as their models say, valid OpenAPI 3.1, and docs/openapi.json current."""

import pytest
from openapi_spec_validator import validate

from api import openapi
from api.routes import router
from scripts import openapi as openapi_script
from shared.errors import ErrorCode


@pytest.fixture(scope="module")
def document():
    return openapi.document()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_of_the_table_is_in_the_document(document):
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}

    assert documented == {(route.method, route.path.replace(":path}", "}")) for route in router.routes()}


def test_a_route_without_an_entry_fails_the_document(monkeypatch):
    monkeypatch.delitem(openapi.OPERATIONS, ("GET", "/v1/usage"))

    with pytest.raises(LookupError, match="GET /v1/usage"):
        openapi.document()


def test_only_health_and_the_document_need_no_credentials(document):
    public = {(method.upper(), path) for path, operations in document["paths"].items()
              for method, operation in operations.items() if operation.get("security") == []}

    assert public == {("GET", "/health"), ("GET", "/openapi.json")}
    assert document["security"] == [{"bearer": []}, {"apiKey": []}]


def test_errors_have_the_one_shape_with_the_codes_of_shared_errors(document):
    components = document["components"]
    assert components["schemas"]["ErrorCode"]["enum"] == [str(code) for code in ErrorCode]
    chat = document["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert chat["400"] == {"$ref": "#/components/responses/OpenAIError400"}
    assert {"invalid_request", "model_not_found", "unsupported"} <= set(
        components["responses"]["OpenAIError400"]["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"])
    assert document["paths"]["/stream/chat"]["post"]["responses"]["401"] == {"$ref": "#/components/responses/Error401"}
    assert "model_not_found" in components["responses"]["Error404"]["description"]


def test_request_bodies_are_the_body_models_schemas(document):
    schemas = document["components"]["schemas"]
    chat = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert chat == {"$ref": "#/components/schemas/OpenAIChatBody"}
    assert set(schemas["OpenAIChatBody"]["properties"]) >= {"model", "messages", "stream", "temperature", "stop", "user", "n"}
    assert schemas["OpenAIChatBody"]["required"] == ["model", "messages"]
    assert set(schemas["OpenAICompletionBody"]["properties"]) >= {"prompt", "max_tokens", "echo", "best_of"}


def test_a_model_id_with_slashes_is_one_path_parameter(document):
    operation = document["paths"]["/v1/models/{model}"]["get"]

    assert [p["name"] for p in operation["parameters"]] == ["model"]
    assert set(operation["responses"]) >= {"200", "404"}


def test_docs_openapi_json_is_what_the_code_makes():
    assert openapi_script.main(["--check"]) == 0, "docs/openapi.json is stale: run `make openapi`"
