"""GET /health: the api worker's own status plus the inference service's, reached over RPC.

Public, so it writes nothing and calls no model: anyone may call it, and KV writes, Analytics
Engine points and model calls count against the deployer's quotas and bill. `?deep=1` with the
admin token runs the deep check, which does write and call (inference/health.py)."""

from typing import Any

from pydantic import ValidationError

from api.auth import is_admin_token, presented_token
from api.call import RequestContext
from api.runtime import Response
from shared import __version__
from shared.errors import ApiError, ErrorCode
from shared.runtime import runtime_name

SERVICE_NAME = "inference-ui-api"


async def get_health(call: RequestContext) -> Response:
    body: dict[str, Any] = {"service": SERVICE_NAME, "version": __version__, "runtime": runtime_name(),
                            "request_id": call.request_id}
    deep = call.query.get("deep") in ("1", "true")
    if deep:
        token = presented_token(call.headers)
        if token is None or not is_admin_token(token, call.settings):
            raise ApiError(ErrorCode.UNAUTHORIZED, "The deep health check needs the admin token", reason="admin_only",
                           headers={"www-authenticate": 'Bearer realm="inference-ui"'})
    try:
        report = await call.inference.health(deep)
    except ValidationError as exc:
        problem = f"unexpected health report: {exc.error_count()} invalid field(s)"
        return call.json({**body, "status": "down", "inference": {"error": problem}}, 503)
    except ApiError as exc:  # unreachable, failing or past the deadline
        return call.json({**body, "status": "down", "inference": {"error": exc.message}}, 503)
    body.update(status="ok" if report.ok else "degraded", inference=report.model_dump(mode="json"))
    return call.json(body, 200 if report.ok else 503)
