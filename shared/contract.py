"""Arguments and results of the inference service's RPC methods.

They cross the service binding as plain dicts (`model_dump(mode="json")`): structured clone
refuses custom objects, and the receiving side validates with the same model.
"""

from pydantic import BaseModel, Field


class BindingStatus(BaseModel):
    ok: bool
    latency_ms: float = Field(ge=0)
    error: str | None = None


class HealthReport(BaseModel):
    service: str
    version: str
    python: str
    request_id: str
    ok: bool
    bindings: dict[str, BindingStatus]
