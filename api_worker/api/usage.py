"""GET /v1/usage: the caller's usage today, against its tier's limits."""

from typing import Any

from api.upstream import call_inference


async def get_usage(call: Any) -> Any:
    report = await call_inference(call, "get_usage", call.caller.model_dump(mode="json"))
    return call.json(dict(report))
