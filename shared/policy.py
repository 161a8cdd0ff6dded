"""A key's own policy: limits set on one API key that narrow its tier's (shared/tiers.py), never
widen them. Every field is optional; a key without a policy has its tier's limits.

- `allowed_models`: the catalog models the key may use (within its tier's);
- `budget_usd` per `budget_period`: spend on models, per calendar period in UTC (a day, an ISO
  week from Monday, a month from its first day), besides the tier's daily budget;
  `soft_budget_usd` (below it) raises an alert when reached, and stops nothing;
- `requests_per_minute` (the lower of the key's and the tier's applies), `tokens_per_minute`
  (AI tokens a minute, prompt and answer), `max_concurrent` (AI requests in flight at once);
- `expires_at`: the key is refused (401) from then on;
- `metadata`: the admin's own labels, returned as given.

Plain Python: the api, the service and the key's counter read it the same way."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shared.base import Model
from shared.models import ALIASES, CATALOG
from shared.tiers import TierLimits

BudgetPeriod = Literal["day", "week", "month"]
MAX_METADATA_ENTRIES = 20
MAX_METADATA_CHARS = 256  # a metadata key's or value's


class KeyPolicy(Model):
    allowed_models: list[str] | None = Field(default=None, min_length=1, max_length=len(CATALOG))
    budget_usd: float | None = Field(default=None, gt=0)
    budget_period: BudgetPeriod = "month"
    soft_budget_usd: float | None = Field(default=None, gt=0)
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    max_concurrent: int | None = Field(default=None, ge=1, le=10_000)
    expires_at: datetime | None = None
    metadata: dict[str, str] | None = Field(default=None, max_length=MAX_METADATA_ENTRIES)

    @field_validator("allowed_models")
    @classmethod
    def _catalog_models(cls, models: list[str] | None) -> list[str] | None:
        """Short names resolved to the catalog's ids; an unknown one refused by name."""
        if models is None:
            return None
        resolved = [ALIASES.get(model, model) for model in models]
        for model in resolved:
            if model not in CATALOG:
                raise ValueError(f"unknown model {model!r}; GET /v1/models lists them")
        return list(dict.fromkeys(resolved))

    @field_validator("expires_at")
    @classmethod
    def _in_utc(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment

    @field_validator("metadata")
    @classmethod
    def _short_labels(cls, metadata: dict[str, str] | None) -> dict[str, str] | None:
        for name, value in (metadata or {}).items():
            if len(name) > MAX_METADATA_CHARS or len(value) > MAX_METADATA_CHARS:
                raise ValueError(f"metadata entry {name[:40]!r} is longer than {MAX_METADATA_CHARS} characters")
        return metadata

    @model_validator(mode="after")
    def _soft_below_the_budget(self) -> "KeyPolicy":
        if self.soft_budget_usd is not None and self.budget_usd is None:
            raise ValueError("soft_budget_usd needs budget_usd")
        if self.soft_budget_usd is not None and self.budget_usd is not None and self.soft_budget_usd > self.budget_usd:
            raise ValueError("soft_budget_usd must not exceed budget_usd")
        return self

    def expires(self) -> float | None:
        """When the key stops working, in unix seconds."""
        return self.expires_at.timestamp() if self.expires_at is not None else None


def narrowed(limits: TierLimits, policy: KeyPolicy | None) -> TierLimits:
    """The tier's limits as the key's policy narrows them: the fewer requests a minute, and only
    the models both allow."""
    if policy is None or (policy.requests_per_minute is None and policy.allowed_models is None):
        return limits
    per_minute = limits.requests_per_minute if policy.requests_per_minute is None \
        else min(limits.requests_per_minute, policy.requests_per_minute)
    models = limits.allowed_models if policy.allowed_models is None \
        else tuple(model for model in policy.allowed_models if limits.allows_model(model))
    return replace(limits, requests_per_minute=per_minute, allowed_models=models)


def period_start(period: BudgetPeriod, day: str) -> str:
    """The first day (YYYY-MM-DD, UTC) of the calendar period `day` falls in."""
    current = date.fromisoformat(day)
    if period == "week":
        current -= timedelta(days=current.weekday())
    elif period == "month":
        current = current.replace(day=1)
    return current.isoformat()


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def budget_period_start(policy: KeyPolicy | None, day: str) -> str:
    """The first day of a key's budget period, "" when it has no budget."""
    return period_start(policy.budget_period, day) if policy is not None and policy.budget_usd else ""


def period_end(period: BudgetPeriod, day: str) -> float:
    """When (unix seconds) the calendar period `day` falls in ends: the next period's first midnight."""
    first = date.fromisoformat(period_start(period, day))
    if period == "day":
        following = first + timedelta(days=1)
    elif period == "week":
        following = first + timedelta(days=7)
    else:
        following = (first + timedelta(days=32)).replace(day=1)
    return datetime(following.year, following.month, following.day, tzinfo=UTC).timestamp()
