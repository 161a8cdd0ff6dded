"""Documents for retrieval under /v1/documents: upload (JSON {title, text, metadata}, or the text
itself as text/plain or text/markdown with ?title=), list, read, delete, and resume an upload
whose ingestion failed. Each caller sees only its own documents."""

from typing import Any

from api import bodies
from api.call import RequestContext
from api.runtime import Response
from shared.documents import MAX_TITLE_CHARS, DocumentIn, DocumentInfo, DocumentRef, DocumentRequest
from shared.errors import ApiError, ErrorCode, error_body

TEXT_TYPES = ("text/plain", "text/markdown")


def _public(info: DocumentInfo) -> dict[str, Any]:
    return {"object": "document", **info.model_dump(mode="json")}


def _answer(call: RequestContext, info: DocumentInfo, status: int = 200) -> Response:
    """The document; one whose ingestion failed is a 503 that says how far it got and how to resume."""
    if info.status == "failed":
        body = error_body(ErrorCode.SERVICE_UNAVAILABLE,
                          f"Ingestion of {info.id} stopped after {info.embedded} of {info.passages} passages ({info.error}); "
                          f"it is not searchable until POST /v1/documents/{info.id}/resume completes it",
                          reason="ingestion_failed", document=_public(info))
        return call.json(body, 503, headers={"retry-after": "5"})
    return call.json(_public(info), status, headers={"location": f"/v1/documents/{info.id}"} if status == 201 else None)


def _ref(call: RequestContext) -> DocumentRef:
    return DocumentRef(request_id=call.request_id, caller=call.caller, document_id=call.path_params["id"][:64])


async def post_document(call: RequestContext) -> Response:
    content_type = (call.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type in TEXT_TYPES:
        title = call.query.get("title") or ""
        if not title:
            raise ApiError(ErrorCode.INVALID_REQUEST, f"title: a text body needs ?title= (at most {MAX_TITLE_CHARS} characters)",
                           field="title")
        data: Any = {"title": title, "text": await bodies.read_text(call.request)}
    else:
        data = await bodies.read_json(call.request)
    document = bodies.validated(DocumentIn, data)
    request = DocumentRequest(request_id=call.request_id, caller=call.caller, document=document)
    info = await call.inference.store_document(request, call.admission)
    return _answer(call, info, 201)


async def list_documents(call: RequestContext) -> Response:
    documents = await call.inference.list_documents(call.caller)
    return call.json({"object": "list", "data": [_public(info) for info in documents]})


async def get_document(call: RequestContext) -> Response:
    return _answer(call, await call.inference.get_document(_ref(call)))


async def delete_document(call: RequestContext) -> Response:
    await call.inference.delete_document(_ref(call))
    return call.json({"id": call.path_params["id"], "object": "document", "deleted": True})


async def resume_document(call: RequestContext) -> Response:
    return _answer(call, await call.inference.resume_document(_ref(call), call.admission))
