import pytest

from api.router import Router
from api.routes import router as api_router
from shared.errors import ApiError, ErrorCode


async def handler(call):
    return call


@pytest.fixture
def router():
    r = Router()
    r.add("GET", "/health", handler, public=True)
    r.add("POST", "/events", handler)
    return r


def test_matches_method_and_path(router):
    route = router.match("POST", "/events")

    assert (route.method, route.path, route.public) == ("POST", "/events", False)


def test_head_is_served_by_the_get_route(router):
    assert router.match("HEAD", "/health").method == "GET"


def test_trailing_slash_matches_the_same_route(router):
    assert router.match("GET", "/health/").path == "/health"


def test_unknown_path_is_not_found(router):
    with pytest.raises(ApiError) as raised:
        router.match("GET", "/nope")

    assert raised.value.code == ErrorCode.NOT_FOUND
    assert raised.value.status == 404
    assert raised.value.body()["error"]["path"] == "/nope"


def test_wrong_method_lists_the_allowed_ones(router):
    with pytest.raises(ApiError) as raised:
        router.match("DELETE", "/health")

    assert raised.value.status == 405
    assert raised.value.headers == {"allow": "GET, HEAD"}
    assert raised.value.body()["error"]["allowed"] == ["GET", "HEAD"]


def test_a_route_cannot_be_added_twice(router):
    with pytest.raises(ValueError, match="routed twice"):
        router.add("GET", "/health", handler)


def test_only_health_and_the_openapi_document_are_public_in_the_api_route_table():
    assert [(r.method, r.path) for r in api_router.routes() if r.public] == [("GET", "/health"), ("GET", "/openapi.json")]


def test_a_segment_in_braces_matches_one_segment_and_is_read_as_a_parameter():
    router = Router()
    router.add("GET", "/v1/documents", "m:list")
    router.add("GET", "/v1/documents/{id}", "m:get")
    router.add("POST", "/v1/documents/{id}/resume", "m:resume")

    route = router.match("GET", "/v1/documents/doc%201/")

    assert route.handler == "m:get" and Router.path_params(route, "/v1/documents/doc%201/") == {"id": "doc 1"}
    assert router.match("GET", "/v1/documents").handler == "m:list"
    assert router.match("POST", "/v1/documents/d/resume").handler == "m:resume"
    assert router.methods_for("/v1/documents/x") == ["GET"]
    with pytest.raises(ApiError) as missing:
        router.match("GET", "/v1/documents/a/b")
    assert missing.value.status == 404


def test_a_method_no_route_takes_is_not_implemented_where_no_path_matches(router):
    with pytest.raises(ApiError) as raised:
        router.match("QUERY", "/nope")

    assert raised.value.status == 501
    assert raised.value.body()["error"] == {"code": "not_implemented", "message": "QUERY is not a method this API implements",
                                            "method": "QUERY", "implemented": ["GET", "HEAD", "OPTIONS", "POST"]}


def test_a_method_no_route_takes_is_not_allowed_on_a_routed_path(router):
    with pytest.raises(ApiError) as raised:
        router.match("PROPFIND", "/events")

    assert raised.value.status == 405
    assert raised.value.headers == {"allow": "POST"}


@pytest.mark.parametrize("path", ["/v1/models/@cf/meta/llama-3.1-8b-instruct-fast",
                                  "/v1/models/@cf%2Fmeta%2Fllama-3.1-8b-instruct-fast"])
def test_a_path_parameter_takes_the_rest_of_the_path_slashes_included(path):
    route = api_router.match("GET", path)

    assert route.path == "/v1/models/{model:path}"
    assert api_router.path_params(route, path) == {"model": "@cf/meta/llama-3.1-8b-instruct-fast"}


def test_a_one_segment_parameter_takes_no_slash():
    with pytest.raises(ApiError) as raised:
        api_router.match("GET", "/v1/documents/a/b")

    assert raised.value.code == ErrorCode.NOT_FOUND
