"""What the store writes about a model call: one record, mapped to D1 rows (d1.py) and to an
Analytics Engine point (telemetry.py)."""

from dataclasses import dataclass

from shared.contract import Caller
from shared.workers_ai import Usage


@dataclass(frozen=True)
class ModelCallRecord:
    caller: Caller
    model: str
    kind: str  # chat | completion | object | embedding | enrichment | moderation
    # ok | cache_hit | failed | failed_mid_stream | stalled | cancelled | invalid_object | timeout | blocked_answer;
    # a moderation call's: ok | blocked_prompt | blocked_answer | failed
    outcome: str
    usage: Usage
    latency_ms: float
    ttft_ms: float
    backend: str | None = None  # the api's binding name for the inference worker that served
    failovers: int = 0  # backends the api tried first
    provider: str = "workers-ai"  # who ran the model: Workers AI or the external provider (shared/routing.py)
    cost_usd: float = 0.0  # the usage at the model's price (shared/models.py, or the provider's)
    used_tools: bool = False  # the model was offered tools, or the conversation held tool calls or results
    split: str | None = None  # the traffic split the call was routed by (shared/splits.py), and its arm
    arm: str | None = None
    gateway_log_id: str | None = None  # its AI Gateway log, when the call went through one (inference/gateway.py)
