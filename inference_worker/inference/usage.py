"""Usage accounting for model calls: per-key daily counters and one row per call in D1 (what
quotas and metrics read), and one Analytics Engine point per call (what dashboards read)."""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from inference import admission, usage_batch
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from inference.store.d1 import day_of
from inference.store.records import ModelCallRecord
from inference.store.telemetry import call_point
from shared import clock
from shared.contract import ArmChoice, Caller, GenerationRequest, WorkRequest
from shared.policy import budget_period_start
from shared.reservations import Reservation
from shared.routing import WORKERS_AI
from shared.workers_ai import Usage, estimate_tokens


def embedding_tokens(texts: list[str]) -> int:
    """Workers AI reports no usage for embeddings: about four characters a token."""
    return sum(estimate_tokens(len(text)) for text in texts)


def embedding_reservation(env: Any, reservation_id: str, model: str, texts: list[str]) -> Reservation:
    """What embedding `texts` spends, reserved of the caller's daily quotas before the model is called."""
    tokens = embedding_tokens(texts)
    cost = settings_of(env).routing.cost_usd(WORKERS_AI, model, tokens, 0)
    return Reservation(id=reservation_id, kind="ai", tokens=tokens, cost_usd=cost)


async def record(env: Any, call: ModelCallRecord, settles: str | None = None) -> None:
    """Records a model call; `settles`: the reservation its request held (freed now that its usage
    is counted). Its Analytics Engine point now; its usage for the key's counter and its D1 rows in
    the isolate's batch (inference/usage_batch.py), which the key's next admission from this isolate
    carries to the counter: an answer's end waits for no write. Without a key counter, D1 frees the
    reservation with the call's rows, at once."""
    stores = stores_of(env)
    stores.telemetry.write(call_point(call))
    day = day_of(clock.now())
    if stores.counters is None:
        await stores.db.record_call(call, settles)
        return
    delta = {"requests": 1, "prompt_tokens": call.usage.prompt_tokens, "completion_tokens": call.usage.completion_tokens,
             "cost_usd": call.cost_usd, "cache_hits": 1 if call.outcome == "cache_hit" else 0}
    await usage_batch.keep(env, call, delta, [settles] if settles else [], day, budget_period_start(call.caller.policy, day))


async def record_quietly(env: Any, call: ModelCallRecord, request_id: str, settles: str | None = None) -> None:
    """Record, logging a failure instead of raising it: the client has (or is getting) its
    answer, and a lost counter must not take that away."""
    try:
        await record(env, call, settles)
    except Exception as exc:
        log(f"usage record failed for request {request_id}: {exc}")


@dataclass
class Meter:
    """One model call, timed from its start: `done` records how it ended (quietly)."""

    env: Any
    caller: Caller
    kind: str
    request_id: str
    backend: str | None = None
    failovers: int = 0
    settles: str | None = None  # the reservation of the request this call is the last of: freed when it is recorded
    used_tools: bool = False  # a generation's that offered tools or carried tool calls or results
    arm: ArmChoice | None = None  # the traffic split's arm the generation was put on
    started: float = field(default_factory=time.perf_counter)
    ended_at: float | None = None  # when the answer ended, if its record is written later
    recorded: bool = False
    gateway_log_id: str | None = None  # the call's AI Gateway log (inference/gateway.py), given by ai_client

    @classmethod
    def of(cls, env: Any, req: WorkRequest, kind: str) -> "Meter":
        """The meter of a request's one model call, which settles the request's reservation."""
        generation = req if isinstance(req, GenerationRequest) else None
        return cls(env, req.caller, kind, req.request_id, req.backend, req.failovers, settles=req.request_id,
                   used_tools=bool(generation and generation.uses_tools()), arm=generation.arm if generation else None)

    @asynccontextmanager
    async def settled_if_unrecorded(self) -> AsyncIterator[None]:
        """Frees the request's reservation if its work fails before this call is recorded (which settles it)."""
        try:
            yield
        except BaseException:
            if not self.recorded and self.settles:
                await admission.settle(self.env, self.caller, self.settles)
            raise

    def ended(self) -> None:
        """The answer has ended: its latency stops here, however much later it is recorded."""
        self.ended_at = time.perf_counter()

    def elapsed_ms(self) -> float:
        return ((self.ended_at or time.perf_counter()) - self.started) * 1000

    async def done(self, model: str, outcome: str, used: Usage | None = None, ttft_ms: float | None = None,
                   provider: str = WORKERS_AI) -> None:
        """`ttft_ms` defaults to the whole latency for an answer given at once, and to 0 for a
        failure. The call costs its usage at the model's price with its provider (a cached answer
        ran no model: it costs nothing)."""
        latency = self.elapsed_ms()
        if ttft_ms is None:
            ttft_ms = latency if outcome in ("ok", "cache_hit") else 0.0
        used = used or Usage()
        cost = 0.0 if outcome == "cache_hit" else \
            settings_of(self.env).routing.cost_usd(provider, model, used.prompt_tokens, used.completion_tokens)
        call = ModelCallRecord(self.caller, model, self.kind, outcome, used, latency, ttft_ms, self.backend, self.failovers, provider, cost,
                               self.used_tools, self.arm.split if self.arm else None, self.arm.arm if self.arm else None,
                               self.gateway_log_id)
        self.recorded = True
        # The call's span attributes, on the line of its span (inference/log.py): what a trace's lines say of it.
        log("model call", caller=self.caller.key_id, kind=self.kind, model=model, provider=provider, backend=self.backend,
            outcome=outcome, cache="hit" if outcome == "cache_hit" else None, prompt_tokens=used.prompt_tokens,
            completion_tokens=used.completion_tokens, ms=round(latency, 1))
        await record_quietly(self.env, call, self.request_id, self.settles)
