"""GET /health: the api worker's own status plus the inference service's, reached over RPC.

Public, so it writes nothing and calls no model: anyone may call it, and KV writes, Analytics
Engine points and model calls count against the deployer's quotas and bill. `?deep=1` with the
admin token runs the deep check, which does write and call (inference/health.py), on every
backend (INFERENCE, INFERENCE_2, ...), each shown with its circuit as this isolate's rotation
sees it (api/backends.py)."""

import asyncio
from typing import Any

from pydantic import ValidationError

from api.auth import is_admin_token, presented_token
from api.backends import pool_of
from api.call import RequestContext
from api.runtime import Response
from shared import __version__, clock
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
        return await _deep(call, body)
    inference = await _report(call.inference.health(deep))
    status = inference.pop("status")
    return call.json({**body, "status": status, "inference": inference}, 200 if status == "ok" else 503)


async def _report(check: Any) -> dict[str, Any]:
    """A backend's report with its status (ok, degraded or down), or down with why."""
    try:
        report = await check
    except ValidationError as exc:
        return {"status": "down", "error": f"unexpected health report: {exc.error_count()} invalid field(s)"}
    except ApiError as exc:  # unreachable, failing or past the deadline
        return {"status": "down", "error": exc.message}
    return {"status": "ok" if report.ok else "degraded", **report.model_dump(mode="json")}


async def _deep(call: RequestContext, body: dict[str, Any]) -> Response:
    """Every backend checked at once, each with its circuit; the first one's report as `inference`."""
    pool = pool_of(call.env)
    circuits = pool.states(clock.monotonic())
    reports = await asyncio.gather(*(_report(call.inference.pinned(name).health(True)) for name in pool.names))
    backends = {name: {"circuit": circuits[name], **report} for name, report in zip(pool.names, reports, strict=True)}
    statuses = {report["status"] for report in reports}
    status = "ok" if statuses == {"ok"} else "down" if statuses == {"down"} else "degraded"
    first = {key: value for key, value in reports[0].items() if key != "status"}
    return call.json({**body, "status": status, "inference": first, "backends": backends}, 200 if status == "ok" else 503)
