"""Analytics Engine (the ANALYTICS binding): one point per model call, per event group and per
health check. Points are telemetry and D1 holds the record: a point that cannot be written (the
binding failed, or the invocation has used its 25 writes) is logged and dropped rather than
failing a request whose data is already stored."""

from typing import Any

from inference.log import log
from inference.store.records import ModelCallRecord

WRITES_PER_INVOCATION = 25


def call_point(call: ModelCallRecord) -> dict[str, list[Any]]:
    return {
        "indexes": [call.caller.key_id],
        "blobs": [call.model, call.kind, call.outcome, call.caller.tier, call.backend or "", call.provider, call.split or "",
                  call.arm or ""],
        "doubles": [round(call.latency_ms, 2), round(call.ttft_ms, 2), call.usage.prompt_tokens, call.usage.completion_tokens,
                    call.failovers, call.cost_usd, int(call.used_tools)],
    }


def event_point(key_id: str, type_: str, component: str, count: int) -> dict[str, list[Any]]:
    return {"indexes": [key_id], "blobs": ["event", type_, component], "doubles": [count]}


class Telemetry:
    def __init__(self, binding: Any) -> None:
        self._ae = binding

    def write(self, point: dict[str, Any]) -> bool:
        try:
            self._ae.writeDataPoint(point)
            return True
        except Exception as exc:
            log(f"analytics point {point['blobs'][:2]} dropped: {exc}")
            return False

    def write_all(self, points: list[dict[str, Any]]) -> None:
        """`write` for each point, converted for the runtime all at once (an event batch writes up to 20)."""
        for point, failure in zip(points, self._ae.writeDataPoints(points), strict=True):
            if failure is not None:
                log(f"analytics point {point['blobs'][:2]} dropped: {failure}")

    def probe(self, token: str) -> None:
        """Writes one point, failing loudly (what a health check needs)."""
        self._ae.writeDataPoint({"indexes": ["health"], "blobs": ["health", token], "doubles": [1]})
