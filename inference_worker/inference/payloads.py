"""Payload logs in R2 (shared/payloads.py says whose, what and for how long): a generation's
prompt and answer kept, redacted, after its answer has ended (never on the answer's way); the
admin's read of one; the cron's deletion of the expired."""

from typing import Any, Literal

from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared import clock
from shared.contract import GenerationRequest, ServiceFailed, ServiceFailure, ToolCall
from shared.errors import ErrorCode
from shared.json_reader import parse_internal_as
from shared.payloads import CALL_ID, PREFIX, PayloadLog, PayloadRef, is_expired, object_key, payload_of


async def keep(env: Any, req: GenerationRequest, model: str, provider: str, outcome: Literal["ok", "failed"],
               answer: str, tool_calls: list[ToolCall]) -> None:
    """Keeps the call's prompt and answer if its caller opted in and its request did not opt out.
    A failure is logged, never raised: the client has its answer."""
    settings = settings_of(env)
    if not settings.payloads.keeps(req.caller, req.keep_payload) or not CALL_ID.match(req.request_id):
        return
    try:
        payload = payload_of(req.request_id, req.caller, req.kind, model, provider, outcome, req.messages, answer, tool_calls,
                             clock.now(), settings.payloads.retention_days, req.traceparent)
        await stores_of(env).archive.put_payload(object_key(payload.call_id), payload.model_dump_json(), payload.key_id,
                                                 payload.expires_at)
    except Exception as exc:
        log(f"payload log not kept: {type(exc).__name__}: {exc}")


async def read(env: Any, ref: PayloadRef) -> PayloadLog:
    """One call's kept payload (the admin's); not_found when none is kept, or it has expired."""
    text = await stores_of(env).archive.read_batch(object_key(ref.call_id))
    payload = parse_internal_as(PayloadLog, text, field="payload log") if text is not None else None
    if payload is None or is_expired(payload.expires_at, clock.now()):
        raise ServiceFailed(ServiceFailure(code=ErrorCode.NOT_FOUND, message=f"No payload is kept for call {ref.call_id}"))
    return payload


async def purge_expired(env: Any, now: float | None = None) -> int:
    """Deletes every payload past its expiry (the cron's); the number deleted."""
    now = clock.now() if now is None else now
    archive = stores_of(env).archive
    expired = [key async for key, expires_at in archive.payload_expiries(PREFIX) if is_expired(expires_at, now)]
    for key in expired:
        await archive.delete_object(key)
    return len(expired)
