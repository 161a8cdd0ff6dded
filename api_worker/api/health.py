"""GET /health: the api worker's own status plus the inference service's, reached over RPC."""

from typing import Any

from pydantic import ValidationError
from workers import Response

from api.call import Call
from shared import __version__
from shared.errors import ApiError
from shared.runtime import runtime_name

SERVICE_NAME = "inference-ui-api"


async def get_health(call: Call) -> Response:
    body: dict[str, Any] = {"service": SERVICE_NAME, "version": __version__, "runtime": runtime_name(),
                            "request_id": call.request_id}
    try:
        report = await call.inference.health()
    except ValidationError as exc:
        problem = f"unexpected health report: {exc.error_count()} invalid field(s)"
        return call.json({**body, "status": "down", "inference": {"error": problem}}, 503)
    except ApiError as exc:  # unreachable, failing or past the deadline
        return call.json({**body, "status": "down", "inference": {"error": exc.message}}, 503)
    body.update(status="ok" if report.ok else "degraded", inference=report.model_dump(mode="json"))
    return call.json(body, 200 if report.ok else 503)
