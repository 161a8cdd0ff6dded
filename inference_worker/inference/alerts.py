"""Alerts, written and delivered: when a model call's usage reaches a key's soft budget, its
budget, or 80%/100% of a daily quota (shared/alerts.py), one row a key, kind and period is written
to D1 (`alerts`, listed by GraphQL), and, when ALERT_WEBHOOK_URL is set, a message is sent to the
alert queue (ALERT_QUEUE); its consumer (`deliver`) POSTs it, signed, and retries through the
queue until the webhook answers 2xx. The POST is never made on a request's path."""

import json
import time
from datetime import UTC, datetime
from typing import Any

from inference.bindings import has_binding
from inference.events.consumer import retry_delay
from inference.log import log
from inference.settings import settings_of
from inference.store import stores_of
from shared.alerts import AlertDue, alerts_due, signed_headers, webhook_body
from shared.bounded import BoundedMap
from shared.contract import Alert, AlertQuery, Caller
from shared.json_reader import parse_internal
from shared.policy import narrowed
from shared.sdk import runtime_env

WEBHOOK_TIMEOUT_MS = 10_000
# (key id, kind, period) of the alerts this isolate wrote or found written: none is written twice.
_written: BoundedMap[tuple[str, str, str], bool] = BoundedMap(10_000, 1024 * 1024)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def due(env: Any, caller: Caller, day: str, totals: dict[str, Any]) -> list[AlertDue]:
    """The alerts the key's `totals` (the counter's answer to its usage: inference/counter.py) have
    reached that this isolate has not written before (no I/O: most answers reach none)."""
    if not totals:
        return []
    limits = narrowed(settings_of(env).limits_for(caller.tier), caller.policy)
    return [alert for alert in alerts_due(limits, caller.policy, day, totals["used"], totals.get("period_cost", 0.0))
            if _written.get((caller.key_id, alert.kind, alert.period)) is None]


async def write(env: Any, caller: Caller, alerts: list[AlertDue]) -> None:
    """Writes each alert that is new in D1, and queues it for the webhook."""
    for alert in alerts:
        created = _now_iso()
        first = await stores_of(env).db.insert_alert(caller.key_id, alert.kind, alert.period, alert.limit_value, alert.value, created)
        _written.put((caller.key_id, alert.kind, alert.period), True)
        if first:
            log("alert", key_id=caller.key_id, kind=alert.kind, period=alert.period, value=alert.value)
            await _queue(env, caller.key_id, alert, created)


async def raise_due(env: Any, caller: Caller, day: str, totals: dict[str, Any]) -> None:
    """Writes the alerts the key's `totals` have reached and were not written before."""
    await write(env, caller, due(env, caller, day, totals))


async def _queue(env: Any, key_id: str, alert: AlertDue, created: str) -> None:
    if not settings_of(env).alert_webhook_url:
        return
    if not has_binding(env, "ALERT_QUEUE"):
        log("alert not sent: ALERT_WEBHOOK_URL is set but no ALERT_QUEUE is bound", key_id=key_id, kind=alert.kind)
        return
    await runtime_env(env).ALERT_QUEUE.send(webhook_body(key_id, alert, created))


async def deliver(env: Any, messages: list[Any]) -> None:
    """The alert queue's consumer: each message POSTed to ALERT_WEBHOOK_URL, signed with
    ALERT_WEBHOOK_SECRET; one the webhook does not take (not 2xx, unreachable) is retried later."""
    settings = settings_of(env)
    for message in messages:
        body = message.body if isinstance(message.body, str) else json.dumps(message.body)
        try:
            await _post(settings.alert_webhook_url, signed_headers(settings.alert_webhook_secret, int(time.time()), body), body)
        except Exception as exc:
            log(f"alert webhook failed ({exc}); retried", attempts=message.attempts)
            message.retry(retry_delay(message.attempts, settings.event_retry_base_seconds))
            continue
        message.ack()
        alert = parse_internal(body, field="alert")
        await stores_of(env).db.mark_alert_delivered(alert["key_id"], alert["kind"], alert["period"], _now_iso())


async def _post(url: str | None, headers: dict[str, str], body: str) -> None:
    if not url:
        raise RuntimeError("ALERT_WEBHOOK_URL is not set")
    from js import AbortSignal, fetch  # the runtime's: this module imports on CPython too

    from inference.store.runtime import js_value

    init = js_value({"method": "POST", "headers": headers, "body": body})
    init.signal = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)  # a webhook that hangs is retried, not waited for
    response = await fetch(url, init)
    if not response.ok:
        raise RuntimeError(f"the webhook answered {response.status}")


async def list_alerts(env: Any, query: AlertQuery) -> list[Alert]:
    return [Alert.model_validate(row) for row in await stores_of(env).db.list_alerts(query.key_id, query.first)]
