"""A key's own policy (shared/policy.py), the limits its counter enforces (shared/reservations.py)
and the alerts its usage raises (shared/alerts.py): plain Python, as the workers apply them."""

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from inference import access, admission
from shared.alerts import alerts_due, signature
from shared.contract import AdmissionRequest, KeyRotation, KeySpec
from shared.keys import parse_key
from shared.policy import KeyPolicy, narrowed, period_end, period_start
from shared.reservations import Ledger, Quotas, Reservation, minute_of
from shared.tiers import TIERS
from tests.fakes import inference_env

EMPTY = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0, "events": 0, "cost_usd": 0.0}
NOW = 1_800_000_000.0
DAY = "2027-01-15"  # a Friday


def test_a_policy_narrows_its_tiers_limits_and_never_widens_them():
    free = TIERS["free"]

    fewer = narrowed(free, KeyPolicy(requests_per_minute=5, allowed_models=["llama-3.1-8b", "llama-3.3-70b"]))
    more = narrowed(free, KeyPolicy(requests_per_minute=10_000))

    assert fewer.requests_per_minute == 5
    assert fewer.allowed_models == ("@cf/meta/llama-3.1-8b-instruct-fast",)  # 70b is not the free tier's: not given by the key
    assert not fewer.allows_model("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
    assert more.requests_per_minute == free.requests_per_minute
    assert narrowed(free, None) == narrowed(free, KeyPolicy()) == free


def test_a_policy_names_the_field_it_refuses():
    with pytest.raises(ValidationError, match="allowed_models"):
        KeyPolicy(allowed_models=["no-such-model"])
    with pytest.raises(ValidationError, match="soft_budget_usd must not exceed budget_usd"):
        KeyPolicy(budget_usd=1, soft_budget_usd=2)
    with pytest.raises(ValidationError, match="soft_budget_usd needs budget_usd"):
        KeyPolicy(soft_budget_usd=2)
    assert KeyPolicy(expires_at="2027-01-01T00:00:00").expires() == datetime(2027, 1, 1, tzinfo=UTC).timestamp()


def test_budget_periods_are_calendar_periods_in_utc():
    assert [period_start(period, DAY) for period in ("day", "week", "month")] == ["2027-01-15", "2027-01-11", "2027-01-01"]
    assert period_end("day", DAY) == datetime(2027, 1, 16, tzinfo=UTC).timestamp()
    assert period_end("week", DAY) == datetime(2027, 1, 18, tzinfo=UTC).timestamp()
    assert period_end("month", "2027-12-31") == datetime(2028, 1, 1, tzinfo=UTC).timestamp()


def quotas(**key_limits) -> Quotas:
    return Quotas(tokens_per_day=1e9, daily_budget_usd=0, events_per_day=1e9, **key_limits)


def call(index: int, tokens: float = 100, cost: float = 0.0) -> Reservation:
    return Reservation(f"r{index}", "ai", tokens=tokens, cost_usd=cost)


def test_requests_in_flight_are_held_to_the_keys_concurrency_and_a_settled_one_frees_its_place():
    ledger = Ledger(EMPTY)
    limits = quotas(max_concurrent=5)

    outcomes = [ledger.reserve(call(i), limits, NOW)[0] for i in range(7)]
    ledger.settle(["r0"], {"prompt_tokens": 10, "completion_tokens": 10})

    assert outcomes == [None] * 5 + ["concurrency"] * 2
    assert ledger.reserve(call(7), limits, NOW)[0] is None
    assert ledger.reserve(Reservation("batch", "events", events=10), limits, NOW)[0] is None  # event batches are not AI requests


def test_the_keys_budget_counts_the_earlier_days_of_its_period():
    ledger = Ledger({**EMPTY, "cost_usd": 0.4}, prior_cost=0.6)

    refused, _ = ledger.reserve(call(1, cost=0.01), quotas(key_budget_usd=1.0), NOW)
    under = Ledger({**EMPTY, "cost_usd": 0.3}, prior_cost=0.6).reserve(call(1, cost=0.01), quotas(key_budget_usd=1.0), NOW)[0]

    assert (refused, under) == ("key_budget", None)


def test_tokens_a_minute_count_what_the_minute_used_and_what_requests_in_flight_hold():
    ledger = Ledger(EMPTY)
    limits = quotas(tokens_per_minute=1_000)
    ledger.add_minute_tokens(minute_of(NOW), 700)

    first = ledger.reserve(call(1, tokens=200), limits, NOW)[0]
    second = ledger.reserve(call(2, tokens=200), limits, NOW)[0]  # 700 used + 200 held: under; then 1,100
    third = ledger.reserve(call(3, tokens=200), limits, NOW)[0]
    next_minute = Ledger(EMPTY).reserve(call(4), limits, NOW + 60)[0]

    assert (first, second, third, next_minute) == (None, None, "tokens_per_minute", None)


def test_alerts_are_due_at_the_soft_budget_the_budget_and_80_and_100_percent_of_a_daily_quota():
    limits = TIERS["free"]
    policy = KeyPolicy(budget_usd=1.0, soft_budget_usd=0.5, budget_period="week")
    tokens = limits.tokens_per_day * 0.85

    due = alerts_due(limits, policy, DAY, {**EMPTY, "prompt_tokens": tokens}, period_cost=0.6)

    assert [(alert.kind, alert.period) for alert in due] == [("budget_soft", "2027-01-11"), ("tokens_per_day_80", DAY)]
    assert {a.kind for a in alerts_due(limits, policy, DAY, {**EMPTY, "prompt_tokens": limits.tokens_per_day}, 1.0)} == {
        "budget_soft", "budget_reached", "tokens_per_day_80", "tokens_per_day_100"}
    assert alerts_due(limits, None, DAY, EMPTY, 0.0) == []


def test_the_webhooks_signature_is_the_hmac_of_its_timestamp_and_body():
    expected = hmac.new(b"secret", b'1800000000.{"kind": "budget_soft"}', hashlib.sha256).hexdigest()

    assert signature("secret", 1_800_000_000, '{"kind": "budget_soft"}') == f"sha256={expected}"


CTX = SimpleNamespace(waitUntil=lambda work: work.cancel())  # the old windows' delete is not awaited here


def admit_key(env, key: str, now: float, kind: str = "read"):
    prefix, digest = parse_key(key)
    return asyncio.run(admission.admit(env, CTX, AdmissionRequest(request_id=f"r{now}", kind=kind, key_prefix=prefix, key_hash=digest),
                                       now=now))


def test_a_keys_policy_narrows_what_its_admission_answers_and_expiry_and_rotation_refuse_it():
    env = inference_env()
    expires = NOW + 100
    created = asyncio.run(access.create_key(env, KeySpec(name="k", tier="free", policy=KeyPolicy(
        requests_per_minute=3, allowed_models=["llama-3.1-8b"], expires_at=datetime.fromtimestamp(expires, UTC)))))

    admitted = admit_key(env, created.key, NOW)
    expired = admit_key(env, created.key, expires)

    assert admitted.allowed and admitted.limits.requests_per_minute == 3 and admitted.valid_until == expires
    assert admitted.limits.allowed_models == ("@cf/meta/llama-3.1-8b-instruct-fast",)
    assert (expired.allowed, expired.reason) == (False, "expired_key")


def test_a_rotated_keys_old_secret_is_admitted_until_its_grace_ends():
    env = inference_env()
    created = asyncio.run(access.create_key(env, KeySpec(name="k")))
    rotated = asyncio.run(access.rotate_key(env, KeyRotation(key_id=created.id, grace_seconds=60)))
    grace_end = datetime.fromisoformat(rotated.previous_valid_until).timestamp()

    old_in_grace, new = admit_key(env, created.key, grace_end - 1), admit_key(env, rotated.key, grace_end - 1)
    old_after, new_after = admit_key(env, created.key, grace_end), admit_key(env, rotated.key, grace_end + 1)

    assert rotated.prefix == created.prefix and rotated.key != created.key
    assert (old_in_grace.allowed, old_in_grace.valid_until, new.allowed, new.valid_until) == (True, grace_end, True, None)
    assert (old_after.allowed, old_after.reason, new_after.allowed) == (False, "rotated_key", True)


def test_without_the_counter_a_keys_budget_stops_it_on_todays_spend():
    env = inference_env()
    created = asyncio.run(access.create_key(env, KeySpec(name="k", tier="pro", policy=KeyPolicy(budget_usd=0.001, budget_period="day"))))
    env.DB.conn.execute("INSERT INTO usage_daily (key_id, day, requests, cost_usd) VALUES (?, ?, 1, 0.002)",
                        (created.id, datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%d")))

    refused = admit_key(env, created.key, NOW, kind="ai")

    assert (refused.allowed, refused.code, refused.reason) == (False, "budget_exceeded", "key_budget")
