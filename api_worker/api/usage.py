"""GET /v1/usage: the caller's usage today, against its tier's limits."""

from api.call import RequestContext
from api.runtime import Response


async def get_usage(call: RequestContext) -> Response:
    return call.json((await call.inference.get_usage(call.caller)).model_dump(mode="json"))
