"""Unknown paths and wrong methods answer in the one JSON error shape."""

from http.client import HTTPConnection, HTTPSConnection
from urllib.parse import urlsplit

import pytest


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
