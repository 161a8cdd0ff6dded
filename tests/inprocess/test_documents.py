"""Documents and retrieval on the local runtime: three documents uploaded, a question answered
only by one of them cites that one (as a `source-document` part that useChat shows, and in a
field OpenAI clients ignore), a deleted document is never cited again, an ingestion that fails
half-way is marked failed, searched by no one, and resumable, a document deleted while it is
ingested keeps no vector. Vectorize is the local stand-in (devhost/vectorize.mjs); the AI
stand-in's embeddings are lexical (shared words score)."""

import time

import httpx
import pytest

from tests.e2e.conftest import FRESH_CONNECTIONS

ZEPHYR = """# The Zephyr tower

The Zephyr tower is painted teal and stands 300 meters tall over the harbour.

## History

It was built in 1921 by the Aurora guild of glassmakers."""
BREAD = "# Baking\n\nSourdough bread needs a starter fed with flour and water every day."
GARDEN = "Tomatoes in a greenhouse want warmth, sun and steady watering; basil grows well beside them."
QUESTION = "What color is the Zephyr tower painted?"
LOOSE = {"min_score": 0.1, "top_k": 3}  # lexical stand-in vectors score lower than bge's


@pytest.fixture
def library(base_url, new_key):
    """A fresh caller with the three documents."""
    key = new_key("pro", "documents")["key"]
    with httpx.Client(base_url=base_url, timeout=30, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {key}"}) as caller:
        zephyr = caller.post("/v1/documents", json={"title": "Zephyr", "text": ZEPHYR, "metadata": {"source": "wiki"}})
        bread = caller.post("/v1/documents", params={"title": "Bread"}, content=BREAD, headers={"content-type": "text/markdown"})
        garden = caller.post("/v1/documents", params={"title": "Garden"}, content=GARDEN, headers={"content-type": "text/plain"})
        assert [r.status_code for r in (zephyr, bread, garden)] == [201, 201, 201], zephyr.text
        yield caller, key, {d.json()["title"]: d.json()["id"] for d in (zephyr, bread, garden)}


def sources_of(message: dict) -> list[dict]:
    return [part for part in message["parts"] if part["type"] == "source-document"]



class StandInIndex:
    """The Vectorize stand-in's control route: its write delay, the writes waiting on it, and the
    vectors it holds (in one namespace: a caller's key id)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def set(self, **knobs) -> None:
        self.client.post("/__devhost/vectorize", json=knobs).raise_for_status()

    def state(self, namespace: str | None = None) -> dict:
        return self.client.get("/__devhost/vectorize", params={"namespace": namespace} if namespace else None).json()

    def reset(self) -> None:
        self.client.delete("/__devhost/vectorize").raise_for_status()


@pytest.fixture
def index(anonymous, ai):
    stand_in = StandInIndex(anonymous)
    stand_in.reset()
    yield stand_in
    stand_in.reset()


def until(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)
    return found


@pytest.mark.parametrize(("request_args", "status", "field"), [
    ({"json": {"title": "T", "text": "x" * (512 * 1024 + 1)}}, 400, "text"),
    ({"json": {"title": "", "text": "words"}}, 400, "title"),
    ({"json": {"title": "T", "text": "   "}}, 400, "text"),
    ({"json": {"title": "T", "text": "ok", "metadata": {"k": "v" * 3000}}}, 400, "metadata"),
    ({"content": b"words", "headers": {"content-type": "text/plain"}}, 400, "title"),
    ({"content": b"\xff\xfe", "headers": {"content-type": "text/plain"}, "params": {"title": "T"}}, 400, "body"),
])
def test_a_bad_document_is_refused_naming_the_field(client, request_args, status, field):
    response = client.post("/v1/documents", **request_args)

    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == field


def test_a_bad_retrieval_option_is_refused_naming_it(client):
    response = client.post("/v1/chat/completions", json={"model": "llama-3.1-8b", "messages": [{"role": "user", "content": "hi"}],
                                                         "retrieval": {"top_k": 50}})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "retrieval.top_k"
