"""Unknown paths and wrong methods answer in the one JSON error shape."""


import pytest

from api.routes import router as api_router

UNIMPLEMENTED_METHODS = ["QUERY", "PURGE", "PROPFIND", "PUT", "PATCH", "TRACE"]


PATHS = ["/health", "/v1/models", "/events", "/graphql", "/v1/documents/doc_unknown", "/nope"]


def _assert_no_traceback(response):
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text


@pytest.mark.parametrize("path", ["/nope", "/health/extra", "/v2/chat"])
def test_unknown_path_is_a_404_json_error(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert path in error["message"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_a_405_json_error_with_allow(client, method):
    response = client.request(method, "/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    error = response.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert error["allowed"] == ["GET", "HEAD"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", [*api_router.implemented_methods(), *UNIMPLEMENTED_METHODS])
def test_every_method_on_every_kind_of_path_answers_without_a_500_or_a_traceback(client, method, path):
    response = client.request(method, path)

    _assert_no_traceback(response)
    assert response.status_code < 500 or response.status_code == 501, response.text
    if response.status_code >= 400 and method != "HEAD":
        assert response.headers["content-type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] and error["message"]


@pytest.mark.parametrize("method", UNIMPLEMENTED_METHODS)
def test_a_method_no_route_takes_is_a_405_with_allow_on_a_routed_path(client, method):
    response = client.request(method, "/v1/models")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("method", UNIMPLEMENTED_METHODS)
def test_a_method_no_route_takes_is_a_501_on_an_unrouted_path(client, method):
    response = client.request(method, "/nope")

    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "not_implemented"
    assert error["method"] == method
    assert error["implemented"] == api_router.implemented_methods()
