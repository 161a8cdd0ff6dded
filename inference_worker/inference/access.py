"""The keys behind the admin API (create, list, revoke) and a caller's usage report. Admission
itself (verification, rate limit, quotas) is inference/admission.py, whose cache of verified
keys a key created or revoked here is dropped from at once."""

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from inference.admission import known_keys, window_of
from inference.settings import settings_of
from inference.store import stores_of
from inference.store.d1 import day_of
from shared import clock
from shared.contract import Caller, CreatedKey, KeyInfo, KeySpec, RateWindow, UsageReport
from shared.keys import new_key

SPEND_DAYS = 7  # the days of spend a usage report lists, today included


async def usage_report(env: Any, caller: Caller, now: float | None = None) -> UsageReport:
    now = clock.now() if now is None else now
    limits = settings_of(env).limits_for(caller.tier)
    window_start, reset = window_of(now)
    since_ms = (int(now // 86_400) - (SPEND_DAYS - 1)) * 86_400_000  # midnight UTC, SPEND_DAYS - 1 days ago
    stores = stores_of(env)
    used, count, spend = await stores.db.usage_and_window(caller.key_id, day_of(now), window_start, since_ms)
    if stores.counters is not None:  # the window is counted there (D1 holds the same usage)
        count, _ = await stores.counters.peek(caller.key_id, window_start, day_of(now))
    return UsageReport(
        key_id=caller.key_id,
        tier=caller.tier,
        day=day_of(now),
        **used,
        spend=spend,
        limits={**asdict(limits), "allowed_models": list(limits.allowed_models)},
        window=RateWindow(limit=limits.requests_per_minute, remaining=max(0, limits.requests_per_minute - count), reset_seconds=reset),
    )


async def create_key(env: Any, spec: KeySpec) -> CreatedKey:
    key, prefix, digest = new_key()
    key_id = f"key_{uuid.uuid4().hex[:16]}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    await stores_of(env).db.insert_key(key_id, prefix, digest, spec.name, spec.tier, created)
    known_keys.discard(prefix)  # in case this isolate had remembered the prefix as unknown
    return CreatedKey(id=key_id, prefix=prefix, name=spec.name, tier=spec.tier, created_at=created, key=key)


async def list_keys(env: Any) -> list[KeyInfo]:
    return [KeyInfo.model_validate(row) for row in await stores_of(env).db.list_keys()]


async def revoke_key(env: Any, key_id: str) -> bool:
    revoked = datetime.now(UTC).isoformat(timespec="seconds")
    revoked_now = await stores_of(env).db.revoke_key(key_id, revoked)
    known_keys.discard_where(lambda row: row is not None and row["id"] == key_id)
    return revoked_now
