"""Documents and retrieval: a document's text goes to R2, its record to D1, its passages
(shared/documents.py) are embedded by Workers AI in batches and upserted into Vectorize; a search
embeds the query and returns the nearest passages of the caller's ready documents.

Ingestion never leaves a document half-searchable without saying so: its D1 row is `ingesting`
while passages go in (in order, `embedded` counting them) and `ready` only once all are in; a
search cites only `ready` documents. A failure half-way marks it `failed` with the reason, and
`resume` carries on from `embedded` (upserts are idempotent: a passage sent twice is one vector).
A delete marks it `deleting` first (no search cites it from then on), then removes every
vector of it (their ids follow from its passage count), its text, and its row.

A delete may come while the document is being ingested. The ingestion checks the row before each
upsert and records its progress after it, only while the row is neither `deleting` nor gone
(store/d1.py); either finding the delete, it stops and removes the document's vectors itself.
So every upsert is removed whatever the order: one made before the delete marked the row, by the
delete (which removes after marking); one made after, by the ingestion (whose record of it then
fails). The upload then answers 409 `document_deleted`, never `ready`."""

import uuid
from datetime import UTC, datetime
from typing import Any

from inference import admission
from inference.ai_client import RetryPolicy, run_once
from inference.log import log
from inference.settings import settings_of
from inference.store import Stores, stores_of
from inference.usage import Meter, embedding_reservation, embedding_tokens
from shared.contract import Caller, ServiceFailed, ServiceFailure, Source
from shared.documents import (
    EMBED_BATCH,
    DocumentInfo,
    DocumentRef,
    DocumentRequest,
    SearchRequest,
    SearchResult,
    passage_id,
    split_passages,
)
from shared.embeddings import vector_texts
from shared.errors import ErrorCode
from shared.models import DEFAULT_EMBEDDING_MODEL
from shared.routing import WORKERS_AI
from shared.workers_ai import Usage

# The index's model: its dimensions (768) are the Vectorize index's (README: wrangler vectorize create).
EMBEDDING_MODEL = DEFAULT_EMBEDDING_MODEL


def _vectors(stores: Stores) -> Any:
    if stores.vectors is None:
        raise ServiceFailed(ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE,
                                           message="Documents need a Vectorize index bound as VECTORS (README: Documents)"))
    return stores.vectors


def _not_found(document_id: str) -> ServiceFailed:
    return ServiceFailed(ServiceFailure(code=ErrorCode.NOT_FOUND, message=f"No document {document_id}", reason="document_not_found"))


async def embed_texts(env: Any, caller: Caller, texts: list[str], request_id: str, backend: str | None = None,
                      as_text: bool = False) -> list[list[float]] | list[str]:
    """Vectors for `texts`, the call recorded (and priced) like any model call; `as_text`: each
    vector's numbers as the runtime wrote them (shared/embeddings.py), for an upsert."""
    meter = Meter(env, caller, "embedding", request_id, backend)
    try:
        _, model, answer = await run_once(env, [(WORKERS_AI, EMBEDDING_MODEL)], {"text": texts}, RetryPolicy.of(settings_of(env)),
                                          vectors_json=as_text, recorder=meter)
    except ServiceFailed:
        await meter.done(EMBEDDING_MODEL, "failed")
        raise
    await meter.done(model, "ok", Usage(prompt_tokens=embedding_tokens(texts)))
    return vector_texts(answer) if as_text else [list(vector) for vector in answer["data"]]


class _Deleted(Exception):
    """The document was deleted while its passages went in."""


def _deleted(document_id: str) -> ServiceFailed:
    return ServiceFailed(ServiceFailure(code=ErrorCode.CONFLICT, reason="document_deleted",
                                        message=f"{document_id} was deleted while it was being ingested; none of its passages is kept"))


async def _remove_vectors(stores: Stores, document_id: str, passages: int) -> None:
    """Every vector the document may have: its ids follow from its passage count."""
    await _vectors(stores).delete([passage_id(document_id, n) for n in range(passages)])


async def _ingest(env: Any, stores: Stores, caller: Caller, info: dict[str, Any], passages: list[str], request_id: str) -> DocumentInfo:
    """Embeds and upserts the passages from `embedded` on; the document as it ends (ready or
    failed). ServiceFailed (409) if it was deleted meanwhile, once its vectors are removed."""
    done = info["embedded"]
    key_id, document_id = caller.key_id, info["id"]
    try:
        while done < len(passages):
            batch = passages[done:done + EMBED_BATCH]
            vectors = await embed_texts(env, caller, batch, request_id, as_text=True)
            current = await stores.db.get_document(key_id, document_id)
            if current is None or current["status"] == "deleting":
                raise _Deleted
            await _vectors(stores).upsert(key_id, [
                (passage_id(document_id, done + i), vector, {"doc": document_id, "n": done + i, "title": info["title"], "text": passage})
                for i, (passage, vector) in enumerate(zip(batch, vectors, strict=True))])
            done += len(batch)
            if done < len(passages) and not await stores.db.document_progress(key_id, document_id, done, "ingesting"):
                raise _Deleted
        if not await stores.db.document_progress(key_id, document_id, done, "ready"):
            raise _Deleted
        return DocumentInfo.model_validate({**info, "embedded": done, "status": "ready", "error": None})
    except _Deleted:
        pass
    except Exception as exc:
        reason = (exc.failure.message if isinstance(exc, ServiceFailed) else f"{type(exc).__name__}: {exc}")[:500]
        log(f"document {document_id}: ingestion stopped at passage {done} of {len(passages)}: {reason}")
        try:
            marked = await stores.db.document_progress(key_id, document_id, done, "failed", reason)
        except Exception as marking:  # the row still says `ingesting`: never searched, resumable all the same
            log(f"document {document_id}: could not mark it failed: {marking}")
            marked = True
        if marked:
            return DocumentInfo.model_validate({**info, "embedded": done, "status": "failed", "error": reason})
    try:
        await _remove_vectors(stores, document_id, len(passages))
    except Exception as exc:  # the document is gone all the same; what its delete did not remove stays
        log(f"document {document_id}: deleted while it was being ingested, and its vectors could not be removed: {exc}")
    raise _deleted(document_id)


async def store_document(env: Any, ctx: Any, req: DocumentRequest) -> DocumentInfo:
    # Its passages' embeddings reserved before any is made, freed once they are recorded.
    passages = split_passages(req.document.text)
    reservation = embedding_reservation(env, req.request_id, EMBEDDING_MODEL, passages)
    await admission.admitted(env, ctx, req.admission, req.caller, reservation)
    try:
        return await _stored(env, req, passages)
    finally:
        await admission.settle(env, req.caller, reservation.id)


async def _stored(env: Any, req: DocumentRequest, passages: list[str]) -> DocumentInfo:
    stores = stores_of(env)
    _vectors(stores)
    document = req.document
    document_id = f"doc_{uuid.uuid4().hex[:20]}"
    r2_key = f"documents/{req.caller.key_id}/{document_id}.txt"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    size = len(document.text.encode())
    await stores.archive.put_document(r2_key, document.text, req.caller.key_id)  # the text first: a row never points at nothing
    await stores.db.insert_document(req.caller.key_id, document_id, document.title, document.metadata, size, len(passages), r2_key, created)
    info = {"id": document_id, "title": document.title, "metadata": document.metadata, "bytes": size, "passages": len(passages),
            "embedded": 0, "status": "ingesting", "error": None, "r2_key": r2_key, "created_at": created}
    return await _ingest(env, stores, req.caller, info, passages, req.request_id)


async def _document(stores: Stores, ref: DocumentRef) -> dict[str, Any]:
    info = await stores.db.get_document(ref.caller.key_id, ref.document_id)
    if info is None or info["status"] == "deleting":
        raise _not_found(ref.document_id)
    return info


async def resume_document(env: Any, ctx: Any, ref: DocumentRef) -> DocumentInfo:
    await admission.admitted(env, ctx, ref.admission)
    stores = stores_of(env)
    info = await _document(stores, ref)
    if info["status"] == "ready":
        return DocumentInfo.model_validate(info)
    text = await stores.archive.read_document(info["r2_key"])
    if text is None:
        raise ServiceFailed(ServiceFailure(code=ErrorCode.SERVICE_UNAVAILABLE, message=f"The text of {ref.document_id} is missing"))
    passages = split_passages(text)
    reservation = embedding_reservation(env, ref.request_id, EMBEDDING_MODEL, passages[info["embedded"]:])
    await admission.reserve(env, ref.caller, reservation)
    try:
        return await _ingest(env, stores, ref.caller, info, passages, ref.request_id)
    finally:
        await admission.settle(env, ref.caller, reservation.id)


async def list_documents(env: Any, caller: Caller) -> list[DocumentInfo]:
    return [DocumentInfo.model_validate(row) for row in await stores_of(env).db.list_documents(caller.key_id)]


async def get_document(env: Any, ref: DocumentRef) -> DocumentInfo:
    return DocumentInfo.model_validate(await _document(stores_of(env), ref))


async def delete_document(env: Any, ref: DocumentRef) -> bool:
    stores = stores_of(env)
    # A document already `deleting` is one whose delete stopped half-way: this one carries it on.
    info = await stores.db.get_document(ref.caller.key_id, ref.document_id)
    if info is None:
        raise _not_found(ref.document_id)
    # Marked before its vectors are removed: an ingestion upserting after the mark removes them itself.
    await stores.db.mark_document_deleting(ref.caller.key_id, ref.document_id)
    # Every passage it may have: those embedded, any of a failed batch that reached the index, and
    # those an ingestion still under way writes before it sees the mark.
    await _remove_vectors(stores, ref.document_id, info["passages"])
    await stores.archive.delete_object(info["r2_key"])
    await stores.db.delete_document(ref.caller.key_id, ref.document_id)
    return True


async def retrieve(env: Any, caller: Caller, query: str, top_k: int, min_score: float, documents: list[str] | None,
                   request_id: str, backend: str | None = None) -> list[Source]:
    """The passages nearest to `query` in the caller's ready documents, best first."""
    stores = stores_of(env)
    [vector] = await embed_texts(env, caller, [query], request_id, backend)
    matches = await _vectors(stores).query(caller.key_id, vector, top_k, documents)
    matches = [m for m in matches if m["score"] >= min_score and m.get("metadata")]
    if not matches:
        return []
    ready = await stores.db.ready_documents(caller.key_id, sorted({m["metadata"]["doc"] for m in matches}))
    return [Source(id=m["id"], document_id=m["metadata"]["doc"], title=m["metadata"]["title"], passage=int(m["metadata"]["n"]),
                   score=round(float(m["score"]), 4), text=m["metadata"]["text"])
            for m in matches if m["metadata"]["doc"] in ready]


async def search(env: Any, ctx: Any, req: SearchRequest) -> SearchResult:
    reservation = embedding_reservation(env, req.request_id, EMBEDDING_MODEL, [req.query])
    await admission.admitted(env, ctx, req.admission, req.caller, reservation)
    options = req.retrieval
    try:
        sources = await retrieve(env, req.caller, req.query, options.top_k, options.min_score, options.documents, req.request_id,
                                 req.backend)
    finally:
        await admission.settle(env, req.caller, reservation.id)
    return SearchResult(sources=sources)
