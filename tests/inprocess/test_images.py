"""Images to vision models, in both dialects: an OpenAI `image_url` part and an AI SDK `file`
part reach mistral-small-3.1 as Workers AI reads them (the stand-in says what it sees: the image's
type and size), inline or fetched by the inference service from a server the test starts; a bad,
too large, mistyped or unreachable image is a 400 naming its part; an image to a model without
vision a 400 naming the field and the models that have it."""

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import host_only
from tests.e2e.sdk import ui_text

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


def test_role_and_content_messages_carry_an_image_file_part_too(client, ai):
    content = [{"type": "text", "text": "What is this?"}, {"type": "file", "mediaType": "image/png", "url": PNG_URL}]

    response = client.post("/stream/chat", json={"model": "llama-4-scout", "messages": [{"role": "user", "content": content}]})

    assert response.status_code == 200 and SEEN in ui_text(response.text)
    assert response.headers["x-model"] == VISION_MODELS[1]


def test_an_unreachable_image_is_a_400_naming_its_part(client, ai):
    response = client.post("/stream/chat", json=ui_image(f"http://127.0.0.1:{closed_port()}/dot.png"))

    error = response.json()["error"]
    assert response.status_code == 400 and error["field"] == "messages.0.parts.1"
    assert "could not be fetched" in error["message"]
