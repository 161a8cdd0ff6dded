"""Usage accounting: per-key daily counters in D1 (what quotas read) and one Analytics
Engine point per model call (what latency and token dashboards read)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.contract import Caller
from shared.workers_ai import Usage

RECORD_USAGE_SQL = """
INSERT INTO usage_daily (key_id, day, requests, prompt_tokens, completion_tokens, cache_hits)
VALUES (?1, ?2, 1, ?3, ?4, ?5)
ON CONFLICT (key_id, day) DO UPDATE SET
  requests = requests + 1,
  prompt_tokens = prompt_tokens + excluded.prompt_tokens,
  completion_tokens = completion_tokens + excluded.completion_tokens,
  cache_hits = cache_hits + excluded.cache_hits
"""


RECORD_CALL_SQL = """
INSERT INTO ai_calls (key_id, ts, model, kind, outcome, latency_ms, ttft_ms, prompt_tokens, completion_tokens)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
"""
BUMP_ANALYTICS_VERSION_SQL = """
INSERT INTO analytics_versions (key_id, version) VALUES (?1, 1)
ON CONFLICT (key_id) DO UPDATE SET version = version + 1
"""


@dataclass
class CallRecord:
    caller: Caller
    model: str
    kind: str
    outcome: str  # ok | cache_hit | failed | failed_mid_stream | stalled | cancelled | invalid_object | timeout
    usage: Usage
    latency_ms: float
    ttft_ms: float

    def usage_params(self, now: datetime | None = None) -> list[Any]:
        day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
        hit = 1 if self.outcome == "cache_hit" else 0
        return [self.caller.key_id, day, self.usage.prompt_tokens, self.usage.completion_tokens, hit]

    def call_params(self, now: datetime | None = None) -> list[Any]:
        ts = int((now or datetime.now(UTC)).timestamp() * 1000)
        return [self.caller.key_id, ts, self.model, self.kind, self.outcome, round(self.latency_ms, 2),
                round(self.ttft_ms, 2), self.usage.prompt_tokens, self.usage.completion_tokens]

    def data_point(self) -> dict[str, list]:
        return {
            "indexes": [self.caller.key_id],
            "blobs": [self.model, self.kind, self.outcome, self.caller.tier],
            "doubles": [
                round(self.latency_ms, 2),
                round(self.ttft_ms, 2),
                self.usage.prompt_tokens,
                self.usage.completion_tokens,
            ],
        }


def write_point(env: Any, point: dict[str, Any]) -> bool:
    """Analytics Engine points are telemetry, D1 holds the record: a point that cannot be
    written (the binding failed, or the invocation has used its 25 writes) is logged and
    dropped rather than failing a request whose data is already stored."""
    try:
        env.ANALYTICS.writeDataPoint(point)
        return True
    except Exception as exc:
        print(f"analytics point {point['blobs'][:2]} dropped: {exc}")
        return False


async def record(env: Any, call: CallRecord) -> None:
    try:
        await env.DB.batch([
            env.DB.prepare(RECORD_USAGE_SQL).bind(*call.usage_params()),
            env.DB.prepare(RECORD_CALL_SQL).bind(*call.call_params()),
            env.DB.prepare(BUMP_ANALYTICS_VERSION_SQL).bind(call.caller.key_id),
        ])
    finally:
        write_point(env, call.data_point())


async def record_quietly(env: Any, call: CallRecord, request_id: str) -> None:
    """Record, logging a failure instead of raising it: the client has (or is getting) its
    answer, and a lost counter must not take that away."""
    try:
        await record(env, call)
    except Exception as exc:
        print(f"usage record failed for request {request_id}: {exc}")
