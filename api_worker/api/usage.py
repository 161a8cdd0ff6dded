"""GET /v1/usage: the caller's usage today, against its tier's limits."""

from typing import Any


async def caller_usage(call: Any) -> dict[str, Any]:
    """The caller's usage report (shared.contract.UsageReport, as a dict)."""
    return (await call.inference.get_usage(call.caller)).model_dump(mode="json")


async def get_usage(call: Any) -> Any:
    return call.json(await caller_usage(call))
