"""Images to vision models, in both dialects: an OpenAI `image_url` part and an AI SDK `file`
part reach mistral-small-3.1 as Workers AI reads them (the stand-in says what it sees: the image's
type and size), inline or fetched by the inference service from a server the test starts; a bad,
too large, mistyped or unreachable image is a 400 naming its part; an image to a model without
vision a 400 naming the field and the models that have it."""

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

from tests.e2e.conftest import TEST_PROVIDER, host_only
from tests.e2e.sdk import SDK_VERSIONS, message_text, run_client, ui_text

pytestmark = host_only  # the stand-in's answers, and a server the local host can reach

# A 1x1 PNG (70 bytes).
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
SEEN = "I see an image/png image of 70 bytes."
VISION_MODELS = ["@cf/mistralai/mistral-small-3.1-24b-instruct", "@cf/meta/llama-4-scout-17b-16e-instruct"]
OVER_THE_LIMIT = 600 * 1024  # an image's limit is 512 KiB


class ImageServer:
    """A local HTTP server the workers fetch images from: each path's answer, and each request's headers."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[dict[str, str]] = []
        self.released = threading.Event()  # lets a server that never answers go
        self.stopped_sending = threading.Event()  # the client hung up on an endless answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append({name.lower(): value for name, value in self.headers.items()})
                if self.path == "/hang.png":
                    server.released.wait(30)
                    return
                if self.path == "/endless.png":  # no length: read until past the limit
                    self.send_response(200)
                    self.send_header("content-type", "image/png")
                    self.end_headers()
                    try:
                        self.wfile.write(b"\x89PNG\r\n\x1a\n")
                        for _ in range(4096):  # 256 MiB, unless the reader stops
                            self.wfile.write(bytes(65536))
                    except OSError:
                        server.stopped_sending.set()
                    return
                status, content_type, body = server.answers.get(self.path, (404, "text/plain", b"no such image"))
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def images():
    server = ImageServer()
    server.answers = {"/dot.png": (200, "image/png", PNG), "/page.png": (200, "text/html", b"<html>not an image</html>"),
                      "/big.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(OVER_THE_LIMIT))}
    yield server
    server.close()


def openai_image(url: str, text: str = "What is this?") -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]}]


def ui_image(url: str, media_type: str = "image/png") -> dict:
    parts = [{"type": "text", "text": "What is this?"}, {"type": "file", "mediaType": media_type, "url": url, "filename": "dot.png"}]
    return {"model": "mistral-small-3.1", "messages": [{"id": "u1", "role": "user", "parts": parts}]}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_openai_client_sends_an_image_that_the_vision_model_sees(sdk, ai):
    completion = sdk.chat.completions.create(model="mistral-small-3.1", messages=openai_image(PNG_URL))
    stream = sdk.chat.completions.create(model="mistral-small-3.1", messages=openai_image(PNG_URL, "And now?"), stream=True)

    assert completion.choices[0].message.content.startswith(f"You said: What is this? {SEEN}")
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith(f"You said: And now? {SEEN}")
    assert [call["model"] for call in ai.calls()] == [VISION_MODELS[0]] * 2


@pytest.mark.parametrize("sdk_version", SDK_VERSIONS)
def test_use_chat_sends_an_image_file_part_that_the_vision_model_sees(base_url, api_key, ai, sdk_version):
    parts = [{"type": "text", "text": "What is this?"}, {"type": "file", "mediaType": "image/png", "url": PNG_URL, "filename": "dot.png"}]

    result = run_client(sdk_version, base_url, "chat", api_key, parts=parts, body={"model": "mistral-small-3.1"})

    assert result["errors"] == []
    assert message_text(result["message"]).startswith(f"You said: What is this? {SEEN}")


def test_role_and_content_messages_carry_an_image_file_part_too(client, ai):
    content = [{"type": "text", "text": "What is this?"}, {"type": "file", "mediaType": "image/png", "url": PNG_URL}]

    response = client.post("/stream/chat", json={"model": "llama-4-scout", "messages": [{"role": "user", "content": content}]})

    assert response.status_code == 200 and SEEN in ui_text(response.text)
    assert response.headers["x-model"] == VISION_MODELS[1]


def test_an_image_url_is_fetched_by_the_service_without_the_callers_credentials(sdk, client, api_key, images, ai):
    images.requests.clear()

    completion = sdk.chat.completions.create(model="mistral-small-3.1", messages=openai_image(f"{images.url}/dot.png"))
    streamed = client.post("/stream/chat", json=ui_image(f"{images.url}/dot.png"))

    assert completion.choices[0].message.content.startswith(f"You said: What is this? {SEEN}")
    assert streamed.status_code == 200 and SEEN in ui_text(streamed.text)
    assert len(images.requests) == 2
    for headers in images.requests:
        assert not {"authorization", "x-api-key", "cookie"} & set(headers)
        assert api_key not in str(headers)
        assert "image/png" in headers["accept"]


@pytest.mark.parametrize(("path", "problem"), [
    ("/big.png", "the limit is 524288"),  # its declared length says so: not read
    ("/endless.png", "over 524288 bytes"),  # no length: read until past the limit
    ("/page.png", "text/html is not an image type accepted here"),
    ("/missing.png", "answered 404"),
    ("/hang.png", "was not fetched within"),
])
def test_an_image_that_cannot_be_fetched_is_a_400_naming_its_part_in_both_dialects(sdk, client, images, ai, path, problem):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="mistral-small-3.1", messages=openai_image(f"{images.url}{path}"))
    streamed = client.post("/stream/chat", json=ui_image(f"{images.url}{path}"))

    assert (raised.value.body["code"], raised.value.param) == ("invalid_request", "messages.0.content.1")
    assert problem in raised.value.body["message"]
    assert streamed.status_code == 400
    assert (streamed.json()["error"]["field"], streamed.json()["error"]["code"]) == ("messages.0.parts.1", "invalid_request")
    assert ai.calls() == []  # no model was called


def test_an_endless_image_is_not_read_past_the_limit(client, images, ai):
    images.stopped_sending.clear()

    response = client.post("/stream/chat", json=ui_image(f"{images.url}/endless.png"))

    assert response.status_code == 400
    assert images.stopped_sending.wait(30), "the service kept reading the image past its limit"


def test_an_unreachable_image_is_a_400_naming_its_part(client, ai):
    response = client.post("/stream/chat", json=ui_image(f"http://127.0.0.1:{closed_port()}/dot.png"))

    error = response.json()["error"]
    assert response.status_code == 400 and error["field"] == "messages.0.parts.1"
    assert "could not be fetched" in error["message"]


@pytest.mark.parametrize(("url", "media_type", "problem"), [
    ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(OVER_THE_LIMIT)).decode(), "image/png", "the limit is 524288"),
    ("data:image/gif;base64," + base64.b64encode(PNG).decode(), "image/gif", "declared image/gif, but the bytes are an image/png image"),
    ("data:image/bmp;base64,Qk0=", "image/bmp", "image/bmp is not an image type accepted here"),
    ("data:image/png;base64,%%%", "image/png", "not base64"),
])
def test_a_bad_inline_image_is_a_400_naming_its_part_in_both_dialects(sdk, client, ai, url, media_type, problem):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="mistral-small-3.1", messages=openai_image(url))
    streamed = client.post("/stream/chat", json=ui_image(url, media_type))

    assert (raised.value.param, raised.value.status_code) == ("messages.0.content.1", 400)
    assert problem in raised.value.body["message"]
    assert streamed.status_code == 400 and streamed.json()["error"]["field"] == "messages.0.parts.1"
    assert problem in streamed.json()["error"]["message"]
    assert ai.calls() == []


def test_an_image_to_a_model_without_vision_is_refused_naming_the_field_and_the_vision_models(sdk, client, ai):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="llama-3.1-8b", messages=openai_image(PNG_URL))
    streamed = client.post("/stream/chat", json={**ui_image(PNG_URL), "model": "llama-3.1-8b"})

    assert (raised.value.body["code"], raised.value.param) == ("unsupported", "messages.0.content.1")
    assert raised.value.body["models"] == VISION_MODELS
    error = streamed.json()["error"]
    assert streamed.status_code == 400 and (error["code"], error["field"], error["models"]) == ("unsupported", "messages.0.parts.1", VISION_MODELS)
    assert "does not do image input" in error["message"]
    assert ai.calls() == []


def test_an_image_routed_to_the_external_provider_reaches_it_as_an_image_part(client, images, ai):
    response = client.post("/stream/chat", json={**ui_image(f"{images.url}/dot.png"), "complexity": "high"})

    assert response.status_code == 200 and response.headers["x-provider"] == TEST_PROVIDER
    assert SEEN in ui_text(response.text)  # the provider was given the image's bytes, as a data URL
    assert [call["worker"] for call in ai.calls()] == ["provider"]


def test_an_image_falls_back_only_to_where_images_are_read(client, ai):
    ai.fail_next({"mode": "error", "code": 3040}, {"mode": "error", "code": 3040})  # Workers AI's mistral-small-3.1, twice

    response = client.post("/stream/chat", json=ui_image(PNG_URL))

    # Not the deployment's fallback, llama-3.3-70b, which has no vision: the provider mapping mistral-small-3.1.
    assert response.status_code == 200 and response.headers["x-provider"] == TEST_PROVIDER
    assert SEEN in ui_text(response.text)
    assert [call["model"] for call in ai.calls() if call["worker"] != "provider"] == [VISION_MODELS[0]] * 2


def test_a_request_holds_at_most_four_images(client, ai):
    content = [{"type": "text", "text": "Compare"}] + [{"type": "file", "mediaType": "image/png", "url": PNG_URL}] * 4
    five = content + [{"type": "file", "mediaType": "image/png", "url": PNG_URL}]

    ok = client.post("/stream/chat", json={"model": "mistral-small-3.1", "messages": [{"role": "user", "content": content}]})
    refused = client.post("/stream/chat", json={"model": "mistral-small-3.1", "messages": [{"role": "user", "content": five}]})

    assert ok.status_code == 200 and ui_text(ok.text).count(SEEN) == 4
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "messages.0.content.5"
    assert refused.json()["error"]["limit"] == 4
