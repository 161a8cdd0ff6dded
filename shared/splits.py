"""Traffic splits: weighted routes between models or providers (an A/B test, a canary), each
request's arm drawn from a hash of its split's name and of its caller or conversation, so the same
caller (or conversation) stays on one arm. Plain Python: the inference worker parses the
configuration once (inference/settings.py) and assigns arms (inference/planning.py `routed`); the
arm is kept in the call's record and Analytics Engine point, and GraphQL's *_BY_ARM metrics read it.

TRAFFIC_SPLITS (inference_worker/wrangler.toml [vars]) is a JSON list; the first split whose
`models` holds the requested model (every model when absent) and whose `tiers` holds the caller's
(every tier when absent) assigns the arm:
  [{"name": "llama-ab", "models": ["llama-3.1-8b"], "sticky": "conversation",
    "arms": [{"name": "A", "weight": 90},
             {"name": "B", "weight": 10, "model": "llama-3.3-70b", "provider": "workers-ai"}]}]
An arm without `model` keeps the requested one; with `provider`, that provider is tried first.
`sticky`: "caller" (the key or JWT subject; the default) or "conversation" (its first user message)."""

import hashlib
from typing import Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from shared.base import Model
from shared.contract import ArmChoice, GenerationRequest
from shared.json_reader import parse_var_as
from shared.models import ALIASES, TEXT_MODELS

ARM_NAME = r"^[A-Za-z0-9_.-]{1,40}$"


class SplitsConfigError(ValueError):
    """TRAFFIC_SPLITS cannot be used: named, so the log says which split and why."""


class Arm(Model):
    name: str = Field(pattern=ARM_NAME)
    weight: float = Field(gt=0)
    model: str | None = None
    provider: str | None = None

    @field_validator("model")
    @classmethod
    def _catalog_id(cls, model: str | None) -> str | None:
        if model is None:
            return None
        model = ALIASES.get(model, model)
        if model not in TEXT_MODELS:
            raise ValueError(f"{model} is not a text model of the catalog (shared/models.py)")
        return model


class Split(Model):
    name: str = Field(pattern=ARM_NAME)
    arms: list[Arm] = Field(min_length=1, max_length=20)
    models: list[str] | None = None
    tiers: list[str] | None = None
    sticky: Literal["caller", "conversation"] = "caller"

    @field_validator("models")
    @classmethod
    def _catalog_ids(cls, models: list[str] | None) -> list[str] | None:
        return None if models is None else [ALIASES.get(m, m) for m in models]

    @model_validator(mode="after")
    def _arms_named_once(self) -> "Split":
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arms: each name once ({names})")
        return self

    def applies_to(self, model: str, tier: str) -> bool:
        return (self.models is None or model in self.models) and (self.tiers is None or tier in self.tiers)

    def arm_for(self, sticky_id: str) -> Arm:
        """The arm `sticky_id` falls in: its hash, as a point in [0, total weight), walked across the
        arms' weights. The same id always gets the same arm while the arms stay as they are."""
        digest = hashlib.sha256(f"{self.name}\0{sticky_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(arm.weight for arm in self.arms)
        for arm in self.arms:
            if point < arm.weight:
                return arm
            point -= arm.weight
        return self.arms[-1]  # rounding at the very top


_SPLITS: TypeAdapter[list[Split]] = TypeAdapter(list[Split])  # built at import, as the models' validators are


def parse_splits(text: str | None, providers: set[str]) -> list[Split]:
    if not text:
        return []
    splits = parse_var_as(_SPLITS, text, "TRAFFIC_SPLITS", SplitsConfigError)
    for index, split in enumerate(splits):
        for arm in split.arms:
            if arm.provider is not None and arm.provider not in providers:
                raise SplitsConfigError(f"TRAFFIC_SPLITS[{index}] ({split.name}), arm {arm.name}: no provider {arm.provider!r} "
                                        f"(configured: {sorted(providers)})")
    if len({split.name for split in splits}) != len(splits):
        raise SplitsConfigError("TRAFFIC_SPLITS: each split's name once (the metrics tell them apart by it)")
    return splits


def sticky_id(split: Split, req: GenerationRequest) -> str:
    """Who stays on one arm: the caller, or the conversation (its first user message, which every
    later turn of it carries too)."""
    if split.sticky == "caller":
        return req.caller.key_id
    first = next((m for m in req.messages if m.role == "user"), req.messages[0])
    return "conversation\0" + first.content


def choose_arm(splits: list[Split], req: GenerationRequest) -> ArmChoice | None:
    """The arm of the first split that applies to the request, or None."""
    for split in splits:
        if split.applies_to(req.model, req.caller.tier):
            arm = split.arm_for(sticky_id(split, req))
            return ArmChoice(split=split.name, arm=arm.name, model=arm.model or req.model, provider=arm.provider)
    return None
