"""Documents' pure core (shared/documents.py), their SQL on SQLite with the migrations, and an
ingestion racing a delete (inference/documents.py over the stand-ins of tests/fakes.py)."""

import asyncio

import pytest
from pydantic import ValidationError

from inference import documents
from inference.store.d1 import Database
from shared.contract import Caller, Retrieval, ServiceFailed, Source
from shared.documents import (
    EMBED_BATCH,
    MAX_DOCUMENT_BYTES,
    PASSAGE_CHARS,
    DocumentIn,
    DocumentRef,
    DocumentRequest,
    grounding,
    passage_id,
    split_passages,
)
from shared.errors import ErrorCode
from tests.fakes import D1, Vectorize, WorkersAI, inference_env


def test_passages_follow_the_structure_and_stay_under_the_size():
    text = "# One\n\nA short section.\n\n# Two\n\n" + "\n\n".join(f"Paragraph {n} " + "word " * 60 for n in range(10))

    passages = split_passages(text)

    assert passages[0].startswith("# One\n\nA short section.")
    assert all(len(p) <= PASSAGE_CHARS for p in passages)
    assert "".join(passages).count("Paragraph 9") >= 1 and len(passages) > 2


def test_neighbouring_passages_overlap_so_an_answer_across_a_boundary_is_found_whole():
    text = "\n\n".join(f"Sentence number {n} says something worth keeping in mind." for n in range(60))

    passages = split_passages(text)

    for before, after in zip(passages, passages[1:], strict=False):
        carried = after.split("\n\n")[0]
        assert carried and carried in before  # the next one starts with the end of this one
    assert all(f"Sentence number {n} " in "".join(passages) for n in range(60))


def test_a_paragraph_longer_than_a_passage_is_cut_at_sentences_then_at_the_size():
    sentence = "x" * (PASSAGE_CHARS * 2 + 10)

    passages = split_passages(f"Short one. {sentence}")

    assert all(len(p) <= PASSAGE_CHARS for p in passages)
    assert sum(p.count("x") for p in passages) >= len(sentence)


def test_a_document_is_checked_field_by_field():
    with pytest.raises(ValidationError, match="text"):
        DocumentIn(title="t", text="é" * (MAX_DOCUMENT_BYTES // 2 + 1))  # bytes of UTF-8 count, not characters
    with pytest.raises(ValidationError, match="no text"):
        DocumentIn(title="t", text=" \n ")
    with pytest.raises(ValidationError, match="metadata"):
        DocumentIn(title="t", text="x", metadata={"big": "v" * 3000})
    with pytest.raises(ValidationError, match="top_k"):
        Retrieval(top_k=21)


def test_grounding_numbers_the_passages_for_citation():
    sources = [Source(id=passage_id("d1", 0), document_id="d1", title="Zephyr", passage=0, score=0.8, text="It is teal."),
               Source(id=passage_id("d2", 3), document_id="d2", title="Bread", passage=3, score=0.6, text="Use a starter.")]

    prompt = grounding(sources)

    assert "[1] Zephyr (passage 0):\nIt is teal." in prompt and "[2] Bread (passage 3):\nUse a starter." in prompt
    assert "cite them by number" in prompt


def test_only_ready_documents_of_the_caller_are_citable():
    db = Database(D1())

    async def scenario():
        for key, doc, status in [("k1", "a", "ready"), ("k1", "b", "failed"), ("k2", "c", "ready"), ("k1", "d", "ingesting")]:
            await db.insert_document(key, doc, doc.upper(), {"n": 1}, 10, 2, f"documents/{key}/{doc}.txt", "2026-11-30T00:00:00+00:00")
            await db.document_progress(key, doc, 2 if status == "ready" else 1, status, "boom" if status == "failed" else None)
        ready = await db.ready_documents("k1", ["a", "b", "c", "d"])
        listed = await db.list_documents("k1")
        return ready, listed

    ready, listed = asyncio.run(scenario())

    assert ready == {"a"}
    assert [(d["id"], d["status"], d["metadata"], d["error"]) for d in listed] == [
        ("a", "ready", {"n": 1}, None), ("b", "failed", {"n": 1}, "boom"), ("d", "ingesting", {"n": 1}, None)]


class _Embeddings(WorkersAI):
    """Three numbers a text; `during`: awaited while the call of that number is under way."""

    def __init__(self, during: dict) -> None:
        super().__init__()
        self.during = during

    async def run(self, model: str, inputs: dict):
        self.calls.append((model, inputs))
        if hook := self.during.get(len(self.calls)):
            await hook()
        return {"data": [[0.1, 0.2, 0.3] for _ in inputs["text"]]}


class _SlowIndex(Vectorize):
    """An index that takes upsert number n only after `during[n]` has run (a delete lands mid-write)."""

    def __init__(self, during: dict) -> None:
        super().__init__()
        self.during = during
        self.upserts = 0

    async def upsert_json(self, vectors_json: str) -> None:
        self.upserts += 1
        if hook := self.during.get(self.upserts):
            await hook()
        await super().upsert_json(vectors_json)


BATCHES = 3
LONG = "\n\n".join(f"Section {n}. " + "Filler words pad it. " * 30 for n in range(BATCHES * EMBED_BATCH))


@pytest.mark.parametrize("lands_during", [("embedding", 2), ("upsert", 1), ("upsert", 2), ("upsert", BATCHES)])
def test_a_document_deleted_while_it_is_ingested_leaves_no_vector_and_is_not_answered_ready(lands_during):
    stage, number = lands_during
    assert len(split_passages(LONG)) == BATCHES * EMBED_BATCH
    caller = Caller(key_id="k1", tier="pro")
    env = inference_env()
    deleted = []

    async def delete():  # the caller's DELETE, answered while the upload is still under way
        [(document_id,)] = env.DB.rows("SELECT id FROM documents")
        deleted.append(await documents.delete_document(env, DocumentRef(request_id="del", caller=caller, document_id=document_id)))

    env.AI = _Embeddings({number: delete} if stage == "embedding" else {})
    env.VECTORS = _SlowIndex({number: delete} if stage == "upsert" else {})
    upload = DocumentRequest(request_id="up", caller=caller, document=DocumentIn(title="Long", text=LONG))

    with pytest.raises(ServiceFailed) as failed:
        asyncio.run(documents.store_document(env, None, upload))

    assert deleted == [True]
    assert (failed.value.failure.code, failed.value.failure.reason) == (ErrorCode.CONFLICT, "document_deleted")
    assert env.VECTORS.vectors == {}  # every passage written, before the delete or after it, is gone
    assert env.DB.rows("SELECT COUNT(*) FROM documents") == [(0,)]
    assert env.ARCHIVE.objects == {}


def test_a_delete_that_stopped_half_way_can_be_sent_again():
    caller = Caller(key_id="k1", tier="pro")
    env = inference_env()
    env.AI, env.VECTORS = _Embeddings({}), Vectorize()
    info = asyncio.run(documents.store_document(env, None, DocumentRequest(request_id="up", caller=caller,
                                                                           document=DocumentIn(title="T", text="Some words."))))
    ref = DocumentRef(request_id="del", caller=caller, document_id=info.id)
    env.DB.conn.execute("UPDATE documents SET status = 'deleting'")  # its vectors' removal failed last time

    assert asyncio.run(documents.delete_document(env, ref)) is True
    assert env.VECTORS.vectors == {} and env.DB.rows("SELECT COUNT(*) FROM documents") == [(0,)]
