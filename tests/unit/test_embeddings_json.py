"""Embedding vectors as JSON text (shared/embeddings.py, inference/embeddings.py): the answer the
api writes around them is OpenAI's, number for number, and the service hands them over unread."""

import asyncio
import json

import pytest

from inference.embeddings import embed
from shared.contract import Caller, EmbeddingRequest
from shared.embeddings import embedding_list_json, vector_texts
from tests.fakes import WorkersAI, inference_env

VECTORS = [[0.25, -1.5e-07, 3.0], [1e21, -0.0, 42], [0.1]]


@pytest.mark.parametrize("vectors", [VECTORS, [[0.5, 0.5]], []])
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])  # as the runtime writes it, and spaced
def test_the_answer_holds_every_vector_as_written_in_openais_shape(vectors, separators):
    text = embedding_list_json(json.dumps(vectors, separators=separators), "@cf/baai/bge-base-en-v1.5",
                               {"prompt_tokens": 7, "total_tokens": 7})

    assert json.loads(text) == {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": "@cf/baai/bge-base-en-v1.5",
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    }
    assert [json.loads(f"[{numbers}]") for numbers in vector_texts(json.dumps(vectors, separators=separators))] == vectors


def test_the_service_hands_the_vectors_over_as_json_text_when_asked_and_as_numbers_otherwise():
    env = inference_env()
    env.AI = WorkersAI({"shape": [3, 3], "data": VECTORS})
    request = EmbeddingRequest(request_id="r", caller=Caller(key_id="k", tier="pro"), model="@cf/baai/bge-base-en-v1.5",
                               texts=["a", "b", "c"])

    as_text = asyncio.run(embed(env, None, request.model_copy(update={"vectors_as_json": True})))
    as_numbers = asyncio.run(embed(env, None, request))

    assert (as_text.vectors, json.loads(as_text.vectors_json)) == (None, VECTORS)
    assert (as_numbers.vectors, as_numbers.vectors_json) == (VECTORS, None)


class IndexStandIn:
    """The Vectorize adapter's side of an upsert (inference/store/runtime.py): JSON text in."""

    def __init__(self) -> None:
        self.upserts: list[list[dict]] = []

    async def upsert_json(self, vectors_json: str) -> None:
        self.upserts.append(json.loads(vectors_json))


def test_an_upsert_is_written_as_json_around_each_vectors_numbers_in_calls_of_at_most_a_thousand():
    from inference.store.vectors import Vectors

    index = IndexStandIn()
    texts = vector_texts(json.dumps([[0.5, -1e-07]] * 1001, separators=(",", ":")))
    metadata = {"doc": "d1", "title": 'A "quoted" title — ünïcode', "text": "line\nbreak"}

    asyncio.run(Vectors(index).upsert("key_1", [(f"d1#{n}", values, metadata) for n, values in enumerate(texts)]))

    assert [len(call) for call in index.upserts] == [1000, 1]
    assert index.upserts[1] == [{"id": "d1#1000", "values": [0.5, -1e-07], "namespace": "key_1", "metadata": metadata}]
