"""The keys behind the admin API (create, list, revoke, set a policy, rotate) and a caller's usage
report. Admission itself (verification, rate limit, quotas) is inference/admission.py, whose
cache of verified keys a key changed here is dropped from at once."""

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from inference.admission import known_keys, limits_of, window_of
from inference.store import stores_of
from inference.store.d1 import day_of
from shared import clock
from shared.contract import (
    Budget,
    Caller,
    CreatedKey,
    KeyInfo,
    KeyPolicyChange,
    KeyRotation,
    KeySpec,
    RateWindow,
    ServiceFailed,
    ServiceFailure,
    UsageReport,
)
from shared.errors import ApiError, ErrorCode
from shared.json_reader import parse_internal_as
from shared.keys import hash_key, new_key, new_secret
from shared.policy import KeyPolicy, next_day, period_start

SPEND_DAYS = 7  # the days of spend a usage report lists, today included


async def usage_report(env: Any, caller: Caller, now: float | None = None) -> UsageReport:
    now = clock.now() if now is None else now
    limits = limits_of(env, caller)
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
        policy=caller.policy,
        budget=await _budget(env, caller.key_id, caller.policy, day_of(now)),
    )


async def _budget(env: Any, key_id: str, policy: KeyPolicy | None, day: str) -> Budget | None:
    """The key's spend against its own budget this period, today's included (D1's usage, which
    the counter's is seeded from and kept in step with)."""
    if policy is None or policy.budget_usd is None:
        return None
    first_day = period_start(policy.budget_period, day)
    spent = await stores_of(env).db.period_spend(key_id, first_day, next_day(day))
    return Budget(limit_usd=policy.budget_usd, soft_limit_usd=policy.soft_budget_usd, period=policy.budget_period,
                  period_start=first_day, spent_usd=spent, remaining_usd=max(0.0, policy.budget_usd - spent))


def key_info(row: dict[str, Any]) -> KeyInfo:
    """A key's row as the admin sees it: its policy read, its old secret's grace as a time."""
    row = dict(row)
    policy_json = row.pop("policy_json", None)
    valid_until = row.pop("previous_valid_until", None)
    return KeyInfo.model_validate({**row, "policy": parse_internal_as(KeyPolicy, policy_json, field="policy") if policy_json else None,
                                   "previous_valid_until": _iso(valid_until) if valid_until else None})


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _policy_json(policy: KeyPolicy | None) -> str | None:
    return policy.model_dump_json(exclude_none=True) if policy is not None else None


def _forget(key_id: str) -> None:
    """Drops the key from this isolate's verified keys: its change applies here at once."""
    known_keys.discard_where(lambda row: row is not None and row["id"] == key_id)


async def create_key(env: Any, spec: KeySpec) -> CreatedKey:
    key, prefix, digest = new_key()
    key_id = f"key_{uuid.uuid4().hex[:16]}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    await stores_of(env).db.insert_key(key_id, prefix, digest, spec.name, spec.tier, created, _policy_json(spec.policy))
    known_keys.discard(prefix)  # in case this isolate had remembered the prefix as unknown
    return CreatedKey(id=key_id, prefix=prefix, name=spec.name, tier=spec.tier, created_at=created, key=key, policy=spec.policy)


async def list_keys(env: Any) -> list[KeyInfo]:
    """Every key, with its spend against its budget where it has one."""
    keys = [key_info(row) for row in await stores_of(env).db.list_keys()]
    today = day_of(clock.now())
    for key in keys:
        if key.policy is not None and key.policy.budget_usd is not None and key.revoked_at is None:
            key.budget = await _budget(env, key.id, key.policy, today)
    return keys


async def revoke_key(env: Any, key_id: str) -> bool:
    revoked = datetime.now(UTC).isoformat(timespec="seconds")
    revoked_now = await stores_of(env).db.revoke_key(key_id, revoked)
    _forget(key_id)
    return revoked_now


async def set_key_policy(env: Any, change: KeyPolicyChange) -> KeyInfo:
    """Replaces the key's policy (None: its tier's limits only); 404 for an unknown key."""
    row = await stores_of(env).db.set_key_policy(change.key_id, _policy_json(change.policy))
    _forget(change.key_id)
    if row is None:
        raise ServiceFailed(ServiceFailure.refusing(ApiError(ErrorCode.NOT_FOUND, f"No API key {change.key_id}", field="id")))
    return key_info(row)


async def rotate_key(env: Any, rotation: KeyRotation) -> CreatedKey:
    """A new secret for the key (its prefix, and so its id in logs, stays); the old one is valid
    for `grace_seconds` more. 404 for an unknown or revoked key."""
    rotated = datetime.now(UTC)
    db = stores_of(env).db
    prefix = await db.live_key_prefix(rotation.key_id)
    key = new_secret(prefix or "")
    updated = await db.rotate_key(rotation.key_id, hash_key(key), rotated.isoformat(timespec="seconds"),
                                  int(rotated.timestamp()) + rotation.grace_seconds) if prefix else None
    _forget(rotation.key_id)
    if updated is None:  # unknown, revoked (perhaps in the meantime)
        raise ServiceFailed(ServiceFailure.refusing(ApiError(ErrorCode.NOT_FOUND, f"No live API key {rotation.key_id}", field="id")))
    return CreatedKey.model_validate({**key_info(updated).model_dump(), "key": key})
