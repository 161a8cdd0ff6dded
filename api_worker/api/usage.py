"""GET /v1/usage: the caller's usage today, against its tier's limits."""

from workers import Response

from api.call import RequestContext


async def get_usage(call: RequestContext) -> Response:
    return call.json((await call.inference.get_usage(call.caller)).model_dump(mode="json"))
