"""Alerts: which limits a key's usage has reached, once a period each, and the webhook's signed
message. A key's soft budget (`budget_soft`) and its budget (`budget_reached`), per its budget
period; 80% and 100% of its tier's daily quotas (`daily_budget_usd_80`, `tokens_per_day_100`,
...), per day. Plain Python: the service writes them (inference/alerts.py).

The webhook's POST carries the alert as JSON, with `x-alert-timestamp` (unix seconds) and
`x-alert-signature: sha256=<hex>`, the HMAC-SHA256 of "<timestamp>.<body>" under
ALERT_WEBHOOK_SECRET: a receiver recomputes it, and refuses an old timestamp (a replay)."""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from shared.policy import KeyPolicy, period_start
from shared.tiers import TierLimits

QUOTA_SHARES = (80, 100)  # percent of a daily quota at which an alert is raised
SIGNATURE_HEADER = "x-alert-signature"
TIMESTAMP_HEADER = "x-alert-timestamp"


@dataclass(frozen=True)
class AlertDue:
    kind: str
    period: str  # the first day of the period it belongs to
    limit_value: float
    value: float


def alerts_due(limits: TierLimits, policy: KeyPolicy | None, day: str, used: Mapping[str, float],
               period_cost: float) -> list[AlertDue]:
    """Every limit the key's usage has reached: today's `used` (the counter's usage fields) and
    `period_cost`, its spend in its budget's period."""
    due = []
    if policy is not None and policy.budget_usd:
        period = period_start(policy.budget_period, day)
        if policy.soft_budget_usd and period_cost >= policy.soft_budget_usd:
            due.append(AlertDue("budget_soft", period, policy.soft_budget_usd, period_cost))
        if period_cost >= policy.budget_usd:
            due.append(AlertDue("budget_reached", period, policy.budget_usd, period_cost))
    daily = {"daily_budget_usd": used.get("cost_usd", 0.0),
             "tokens_per_day": used.get("prompt_tokens", 0) + used.get("completion_tokens", 0),
             "events_per_day": used.get("events", 0)}
    for quota, value in daily.items():
        limit = float(getattr(limits, quota))
        for share in QUOTA_SHARES if limit > 0 else ():
            if value >= limit * share / 100:
                due.append(AlertDue(f"{quota}_{share}", day, limit, value))
    return due


def webhook_body(key_id: str, alert: AlertDue, created_at: str) -> str:
    return json.dumps({"type": "alert", "key_id": key_id, **asdict(alert), "created_at": created_at}, sort_keys=True)


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str | None, timestamp: int, body: str) -> dict[str, Any]:
    """The webhook POST's headers: the signature when a secret is set."""
    headers = {"content-type": "application/json", TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    return headers
