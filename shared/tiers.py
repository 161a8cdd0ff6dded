"""Tier limits: the one place they are written down. Any limit can be overridden per
deployment with a var named TIER_<TIER>_<LIMIT>, e.g. TIER_FREE_REQUESTS_PER_MINUTE = "60",
or TIER_PRO_ALLOWED_MODELS = "*" (a comma-separated list of model ids, or * for all)."""

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from shared.models import DEFAULT_EMBEDDING_MODEL, DEFAULT_TEXT_MODEL

# The sentinel for "every model in the catalog" (shared.models.ALL_MODELS lists them).
ANY_MODEL = ("*",)


@dataclass(frozen=True)
class TierLimits:
    requests_per_minute: int
    tokens_per_day: int
    events_per_day: int
    max_batch_size: int
    allowed_models: tuple[str, ...]
    daily_budget_usd: float = 0.0  # spend a day on models (their catalog or provider prices); 0: none

    def allows_model(self, model: str) -> bool:
        return self.allowed_models == ANY_MODEL or model in self.allowed_models


TIERS: dict[str, TierLimits] = {
    "free": TierLimits(
        requests_per_minute=20,
        tokens_per_day=50_000,
        events_per_day=10_000,
        max_batch_size=100,
        allowed_models=(DEFAULT_TEXT_MODEL, "@cf/baai/bge-small-en-v1.5", DEFAULT_EMBEDDING_MODEL),
    ),
    "pro": TierLimits(300, 2_000_000, 1_000_000, 500, ANY_MODEL),
    "enterprise": TierLimits(3_000, 50_000_000, 50_000_000, 1_000, ANY_MODEL),
}


# Every var that overrides a limit, TIER_<TIER>_<LIMIT>.
TIER_VARS = tuple(f"TIER_{tier.upper()}_{spec.name.upper()}" for tier in TIERS for spec in fields(TierLimits))


def limits_for(tier: str, var: Callable[[str], str | None] = lambda name: None) -> TierLimits:
    """The tier's limits with the deployment's TIER_* vars applied; `var` reads one (the settings
    modules pass their env reader)."""
    base = TIERS.get(tier, TIERS["free"])
    overrides: dict[str, Any] = {}
    for spec in fields(TierLimits):
        value = var(f"TIER_{tier.upper()}_{spec.name.upper()}")
        if value in (None, ""):
            continue
        if spec.name == "allowed_models":
            overrides[spec.name] = tuple(m.strip() for m in str(value).split(",") if m.strip())
        else:
            overrides[spec.name] = float(value) if spec.type is float else int(value)
    return replace(base, **overrides)
