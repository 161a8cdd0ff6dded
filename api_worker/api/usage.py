"""GET /v1/usage: the caller's usage today, against its tier's limits."""

from typing import Any

from api.upstream import call_inference


async def caller_usage(call: Any) -> dict[str, Any]:
    """The caller's usage report (shared.contract.UsageReport, as a dict)."""
    return dict(await call_inference(call, "get_usage", call.caller.model_dump(mode="json")))


async def get_usage(call: Any) -> Any:
    return call.json(await caller_usage(call))
