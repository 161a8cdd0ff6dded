"""Documents and retrieval on the local runtime: three documents uploaded, a question answered
only by one of them cites that one (as a `source-document` part that useChat shows, and in a
field OpenAI clients ignore), a deleted document is never cited again, an ingestion that fails
half-way is marked failed, searched by no one, and resumable, a document deleted while it is
ingested keeps no vector. Vectorize is the local stand-in (local/vectorize.mjs); the AI
stand-in's embeddings are lexical (shared words score)."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from tests.e2e.conftest import FRESH_CONNECTIONS
from tests.e2e.sdk import SDK_VERSIONS, run_client

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


@pytest.mark.parametrize("sdk", SDK_VERSIONS)
def test_the_ai_sdk_shows_the_one_document_that_answers_and_never_a_deleted_one(base_url, library, sdk):
    caller, key, ids = library

    answer = run_client(sdk, base_url, "chat", key, text=QUESTION, body={"retrieval": LOOSE})

    assert answer["errors"] == []
    cited = sources_of(answer["message"])
    assert [(s["title"], s["providerMetadata"]["inference-ui"]["documentId"]) for s in cited] == [("Zephyr", ids["Zephyr"])]
    assert "painted teal" in cited[0]["providerMetadata"]["inference-ui"]["text"]
    assert cited[0]["sourceId"] == f"{ids['Zephyr']}#0" and cited[0]["mediaType"] == "text/plain"

    assert caller.delete(f"/v1/documents/{ids['Zephyr']}").json() == {"id": ids["Zephyr"], "object": "document", "deleted": True}
    again = run_client(sdk, base_url, "chat", key, text=QUESTION, body={"retrieval": {**LOOSE, "min_score": -1}})

    assert again["errors"] == []
    assert ids["Zephyr"] not in {s["providerMetadata"]["inference-ui"]["documentId"] for s in sources_of(again["message"])}
    assert caller.get(f"/v1/documents/{ids['Zephyr']}").status_code == 404
    assert ids["Zephyr"] not in [d["id"] for d in caller.get("/v1/documents").json()["data"]]


def test_openai_clients_get_the_sources_in_a_field_they_ignore(base_url, library):
    _, key, ids = library
    question = [{"role": "user", "content": "How is sourdough bread started?"}]
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0) as sdk:
        whole = sdk.chat.completions.create(model="llama-3.1-8b", messages=question, extra_body={"retrieval": LOOSE})
        chunks = list(sdk.chat.completions.create(model="llama-3.1-8b", messages=question, stream=True, extra_body={"retrieval": LOOSE}))

    assert whole.choices[0].message.content  # the client parsed the answer as usual
    assert [s["document_id"] for s in whole.model_extra["sources"]] == [ids["Bread"]]
    assert [s["title"] for s in chunks[0].model_extra["sources"]] == ["Bread"]
    assert all("sources" not in (c.model_extra or {}) for c in chunks[1:])


def test_search_lists_passages_with_scores_and_only_the_callers(base_url, library, new_key):
    caller, _, ids = library
    query = '{ search(query: "greenhouse tomatoes", minScore: 0.1) { documentId title passage score text } documents { id title status passages } }'

    data = caller.post("/graphql", json={"query": query}).json()["data"]

    assert [(p["documentId"], p["passage"]) for p in data["search"]] == [(ids["Garden"], 0)]
    assert 0.1 <= data["search"][0]["score"] <= 1
    assert {d["title"]: (d["status"], d["passages"]) for d in data["documents"]} == {"Zephyr": ("ready", 1), "Bread": ("ready", 1),
                                                                                     "Garden": ("ready", 1)}
    stranger = new_key("pro", "documents-stranger")["key"]
    with httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {stranger}"}) as other:
        assert other.post("/graphql", json={"query": query}).json()["data"] == {"search": [], "documents": []}
        assert other.get(f"/v1/documents/{ids['Garden']}").status_code == 404


def test_embedding_calls_are_recorded_and_priced_like_generations(library):
    caller, _, _ = library

    spend = {row["model"]: row for row in caller.get("/v1/usage").json()["spend"]}

    assert spend["@cf/baai/bge-base-en-v1.5"]["calls"] == 3  # one embedding call a document
    assert spend["@cf/baai/bge-base-en-v1.5"]["cost_usd"] > 0


def test_an_ingestion_that_fails_half_way_is_marked_searched_by_no_one_and_resumable(base_url, new_key, ai):
    key = new_key("pro", "documents-failure")["key"]
    # 120 passages of their own words: three embedding calls of 50; the second fails for good.
    text = "\n\n".join(f"Section {n}: the keyword quasar{n} appears only here. " + "Filler words pad it. " * 30 for n in range(120))
    ai.fail_next({"mode": "error", "code": 5006, "message": "Invalid input", "skip": 1})
    with httpx.Client(base_url=base_url, timeout=60, headers={"authorization": f"Bearer {key}"}) as caller:
        failed = caller.post("/v1/documents", json={"title": "Long", "text": text})
        document = failed.json()["error"]["document"]

        assert failed.status_code == 503 and failed.json()["error"]["reason"] == "ingestion_failed"
        assert (document["status"], document["embedded"], document["passages"]) == ("failed", 50, 120)
        assert caller.get(f"/v1/documents/{document['id']}").json()["error"]["document"]["status"] == "failed"
        # Its first 50 passages are in the index, yet no search cites a document that is not ready.
        search = '{ search(query: "quasar3", minScore: 0.1) { documentId } }'
        assert caller.post("/graphql", json={"query": search}).json()["data"]["search"] == []

        resumed = caller.post(f"/v1/documents/{document['id']}/resume")

        assert resumed.status_code == 200, resumed.text
        assert (resumed.json()["status"], resumed.json()["embedded"]) == ("ready", 120)
        # The filler dominates every passage's vector: ask in its words too, the rare ones decide.
        found = caller.post("/graphql", json={"query": '{ search(query: "Section 117 keyword quasar117 appears only here filler words pad", '
                                                       'minScore: 0.1, topK: 1) { documentId passage } }'})
        assert found.json()["data"]["search"] == [{"documentId": document["id"], "passage": 117}]


@pytest.mark.parametrize("lands_during", ["embedding", "upsert"])
def test_a_document_deleted_while_it_is_ingested_keeps_no_vector_and_is_not_answered_ready(base_url, new_key, ai, index,
                                                                                          lands_during):
    key = new_key("pro", f"documents-delete-{lands_during}")
    # 100 passages, two embedding calls of 50 and two upserts, each passage with a rare word of its
    # own; the whole upload stays within the api's deadline (INFERENCE_TIMEOUT_MS, 3 s here).
    text = "\n\n".join(f"Section {n}: the keyword nebula{n} appears only here. " + "Filler words pad it. " * 30 for n in range(100))
    with httpx.Client(base_url=base_url, timeout=60, limits=FRESH_CONNECTIONS, headers={"authorization": f"Bearer {key['key']}"}) as caller, \
            ThreadPoolExecutor(1) as background:
        if lands_during == "embedding":
            ai.set(latencyMs=900)  # the delete lands while the second batch is embedded: nothing of it is written yet
        else:
            index.set(writeDelayMs=1000)  # the delete lands while the first upsert is under way: its vectors come after it
        upload = background.submit(caller.post, "/v1/documents", json={"title": "Nebulae", "text": text})

        def under_way():
            listed = caller.get("/v1/documents").json()["data"]
            if lands_during == "embedding":
                return [d["id"] for d in listed if d["embedded"] >= 50]
            return [d["id"] for d in listed] if index.state()["pendingWrites"] else []

        [document_id] = until(under_way, "the ingestion under way")
        if lands_during == "embedding":
            assert index.state(namespace=key["id"])["vectors"] >= 50  # the first batch is in: counted where it is
        deleted = caller.delete(f"/v1/documents/{document_id}")
        answered = upload.result()

        assert deleted.status_code == 200, deleted.text
        assert answered.status_code == 409, answered.text
        assert (answered.json()["error"]["code"], answered.json()["error"]["reason"]) == ("conflict", "document_deleted")
        assert caller.get(f"/v1/documents/{document_id}").status_code == 404
        assert caller.get("/v1/documents").json()["data"] == []
        found = caller.post("/graphql", json={"query": '{ search(query: "keyword nebula70 appears only here", minScore: -1, topK: 20) '
                                                       '{ documentId } }'})
        assert found.json()["data"]["search"] == []
        assert index.state(namespace=key["id"])["vectors"] == 0
