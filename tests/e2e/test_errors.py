"""Unknown paths and wrong methods answer in the one JSON error shape."""

from http.client import HTTPConnection, HTTPSConnection
from urllib.parse import urlsplit

import pytest

from api.routes import router as api_router


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


# Methods no route takes but HTTP servers pass on (WebDAV's, caches' and the draft QUERY).
UNIMPLEMENTED_METHODS = ["QUERY", "PURGE", "PROPFIND", "PUT", "PATCH", "TRACE"]
PATHS = ["/health", "/v1/models", "/events", "/graphql", "/v1/documents/doc_unknown", "/nope"]


def _assert_no_traceback(response):
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text


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


@pytest.mark.parametrize("method", ["FOO", "get", "M-SEARCH"])
def test_a_method_the_http_server_may_not_know_never_reaches_a_traceback(base_url, api_key, method):
    # http.client sends the method as written (httpx would upper-case "get").
    url = urlsplit(base_url)
    connection = (HTTPSConnection if url.scheme == "https" else HTTPConnection)(url.netloc, timeout=30)
    try:
        connection.request(method, "/v1/models", headers={"authorization": f"Bearer {api_key}"})
        response = connection.getresponse()
        status, text = response.status, response.read().decode(errors="replace")
    finally:
        connection.close()

    assert "Traceback" not in text and 'File "' not in text, text
    assert status in (400, 405, 501), text
