"""Guardrails: a generation's prompt and/or its answer checked by a moderation model (Llama Guard
on Workers AI) for the callers GUARDRAILS names (shared/guardrails.py). A blocked prompt is refused
(400 `content_blocked`, naming the hazard categories) before any model answers it; a blocked
answer ends its stream with an error part (a whole answer is refused the same way). Each check is
recorded as a model call of kind "moderation", with its latency and cost, its outcome `ok`,
`blocked_prompt` or `blocked_answer`: what the GUARDRAIL_BLOCKS metric counts."""

from typing import Any

from inference.ai_client import workers_ai
from inference.settings import settings_of
from inference.usage import Meter
from shared.contract import GenerationRequest, ServiceFailed, ServiceFailure
from shared.errors import ErrorCode
from shared.guardrails import Stage, blocked, moderation_messages, verdict_of
from shared.models import MODERATION_MODEL
from shared.workers_ai import Usage, estimate_tokens


async def check(env: Any, req: GenerationRequest, stage: Stage, answer: str | None = None) -> ServiceFailure | None:
    """Runs the check `stage` of `req` if its caller's guardrails ask for it: the refusal if the
    moderation model flagged it, else None. The check is recorded (it does not settle the request)."""
    if stage not in settings_of(env).guardrails.stages_for(req.caller.key_id, req.caller.tier):
        return None
    messages = moderation_messages(req.messages, answer)
    if not messages or (stage == "answer" and messages[-1]["role"] != "assistant"):
        return None  # nothing of the kind to check (an answer that only called tools)
    meter = Meter(env, req.caller, "moderation", req.request_id, req.backend, req.failovers)
    try:
        result = await workers_ai(env).run(MODERATION_MODEL, {"messages": messages, "response_format": {"type": "json_object"}})
    except Exception as exc:  # unchecked is not let through: the request fails, as its model's failure would
        await meter.done(MODERATION_MODEL, "failed")
        failure = ServiceFailure(code=ErrorCode.UPSTREAM_ERROR, message=f"The guardrails' moderation model failed: {exc}")
        raise ServiceFailed(failure) from exc
    verdict = verdict_of(result.get("response"))
    reported = result.get("usage")
    used = Usage(reported["prompt_tokens"], reported["completion_tokens"]) if reported else \
        Usage(estimate_tokens(sum(len(m["content"]) for m in messages)), 1)
    latency = meter.elapsed_ms()
    await meter.done(MODERATION_MODEL, "ok" if verdict.safe else f"blocked_{stage}", used, latency)
    return None if verdict.safe else blocked(stage, verdict)


async def check_prompt(env: Any, req: GenerationRequest) -> None:
    """Raises the refusal (400 content_blocked) of a prompt the moderation model flagged."""
    if refusal := await check(env, req, "prompt"):
        raise ServiceFailed(refusal)
