"""Unknown paths and wrong methods answer in the one JSON error shape."""

import pytest


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
