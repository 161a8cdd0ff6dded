"""Reservations of a caller's daily quotas (AI tokens, the model budget, events), so that requests
in flight at once cannot pass a quota by more than one request's worth.

A request reserves its worst case before its work (a generation: its prompt and its largest
answer at the dearest price it may be routed to; an embedding or a document: its texts' tokens at
the embedding model's price; an event batch: its events). The caller's counter takes it
atomically (one object per key, one request at a time: inference/counter.py), and only while
what the day used plus what requests in flight hold is under the quota. The work then settles it
with what it really spent (the rest is freed); a request that fails or is cancelled frees it
whole. One that nobody settles (its worker died) expires. An event batch's reservation is
settled when the batch is indexed (its id is the batch's, so a batch sent again holds its events
once). So a quota is passed by at most the last request admitted under it.

A batch admitted from slots taken ahead (shared/leases.py) makes no call to the counter: the
request that took the slots reserved events for them too (`ahead`), as long as the quota has
plenty left; batches spend that allowance in their isolate, and it expires with the slots' window.

Plain Python, the one arithmetic the counter (and the D1 fallback) apply."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from shared.json_reader import parse_internal
from shared.leases import WINDOW_SECONDS
from shared.policy import KeyPolicy, budget_period_start
from shared.tiers import TierLimits

# Reservations nobody settled are dropped after this long: longer than a generation may take.
RESERVATION_SECONDS = 900
# Events reserved ahead for a lease are granted only while the quota left is at least this many
# times the ask (as slots are: shared/leases.py), so an allowance never refuses a batch early by much.
AHEAD_PLENTY = 4
# An allowance of events for slots taken ahead lasts until the slots' window ends and the batches
# admitted from it are indexed (counted then besides it until it expires: early refusals, never more admitted).
AHEAD_SECONDS = 60 + 300


@dataclass(frozen=True)
class Reservation:
    """What one request (or a lease's batches) may spend of the day's quotas, until `expires`."""

    id: str
    kind: str  # "ai" or "events": the quotas it is checked against
    tokens: float = 0
    cost_usd: float = 0.0
    events: float = 0
    expires: float = 0.0  # unix seconds: set when it is held

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Reservation":
        return cls.from_dict(parse_internal(text, field="reservation"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Reservation":
        return cls(id=str(data["id"]), kind=str(data["kind"]), tokens=float(data.get("tokens", 0)),
                   cost_usd=float(data.get("cost_usd", 0)), events=float(data.get("events", 0)),
                   expires=float(data.get("expires", 0)))


@dataclass(frozen=True)
class Quotas:
    """A tier's daily quotas (shared/tiers.py) and its key's own limits (shared/policy.py), as the
    counter is told them: the key's budget for the period from `budget_period_start` (a day),
    its AI tokens a minute and its AI requests in flight (0: none)."""

    tokens_per_day: float
    daily_budget_usd: float
    events_per_day: float
    key_budget_usd: float = 0.0
    budget_period_start: str = ""
    tokens_per_minute: float = 0
    max_concurrent: int = 0

    @classmethod
    def of(cls, limits: TierLimits, policy: KeyPolicy | None = None, day: str = "") -> "Quotas":
        quotas = cls(limits.tokens_per_day, limits.daily_budget_usd, limits.events_per_day)
        if policy is None:
            return quotas
        return replace(quotas, key_budget_usd=policy.budget_usd or 0.0,
                       budget_period_start=budget_period_start(policy, day) if day else "",
                       tokens_per_minute=policy.tokens_per_minute or 0, max_concurrent=policy.max_concurrent or 0)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Quotas":
        return cls(float(data["tokens_per_day"]), float(data["daily_budget_usd"]), float(data["events_per_day"]),
                   float(data.get("key_budget_usd", 0)), str(data.get("budget_period_start", "")),
                   float(data.get("tokens_per_minute", 0)), int(data.get("max_concurrent", 0)))


def committed(used: Mapping[str, float], held: Mapping[str, float] | None = None) -> dict[str, float]:
    """The day's usage (the counter's usage fields) plus what reservations hold: what quotas are checked against."""
    held = held or {}
    return {"tokens": used["prompt_tokens"] + used["completion_tokens"] + held.get("tokens", 0),
            "cost_usd": used["cost_usd"] + held.get("cost_usd", 0), "events": used["events"] + held.get("events", 0)}


def spent_quota(kind: str, limits: Quotas | TierLimits, spent: Mapping[str, float]) -> str | None:
    """The quota a request of `kind` finds used up ("token_quota", "budget", "event_quota",
    "key_budget": the key's own budget, against `spent`'s "period_cost"), if any."""
    if kind == "ai" and spent["tokens"] >= limits.tokens_per_day:
        return "token_quota"
    if kind == "ai" and limits.daily_budget_usd and spent["cost_usd"] >= limits.daily_budget_usd:
        return "budget"
    if kind == "ai" and isinstance(limits, Quotas) and limits.key_budget_usd \
            and spent.get("period_cost", spent["cost_usd"]) >= limits.key_budget_usd:
        return "key_budget"
    if kind == "events" and spent["events"] >= limits.events_per_day:
        return "event_quota"
    return None


class Ledger:
    """One caller's day: its usage (the counter's usage fields) and the reservations held."""

    def __init__(self, used: Mapping[str, float], holds: Iterable[Reservation] = (), prior_cost: float = 0.0) -> None:
        self.used = dict(used)
        self.holds = {hold.id: hold for hold in holds}
        # Spend on the days of the key's budget period before today (the counter reads it from D1).
        self.prior_cost = prior_cost
        # AI tokens used in the current minute: (the window's start, tokens), kept by the counter.
        self.minute: tuple[int, float] = (0, 0.0)

    def expired(self, now: float) -> list[str]:
        """Drops the reservations past their time; their ids."""
        gone = [hold_id for hold_id, hold in self.holds.items() if hold.expires <= now]
        for hold_id in gone:
            del self.holds[hold_id]
        return gone

    def held(self) -> dict[str, float]:
        return {name: sum(getattr(hold, name) for hold in self.holds.values()) for name in ("tokens", "cost_usd", "events")}

    def committed(self) -> dict[str, float]:
        return committed(self.used, self.held())

    def in_flight(self) -> int:
        """AI requests holding a reservation: admitted and not yet settled."""
        return sum(1 for hold in self.holds.values() if hold.kind == "ai")

    def minute_tokens(self, window_start: int) -> float:
        """AI tokens of the minute from `window_start`: used, and held by the requests in flight."""
        used = self.minute[1] if self.minute[0] == window_start else 0.0
        return used + sum(hold.tokens for hold in self.holds.values() if hold.kind == "ai")

    def refusal(self, kind: str, limits: Quotas, window_start: int) -> str | None:
        """The limit a request of `kind` finds reached: a quota or budget used up (spent_quota),
        the key's AI tokens of this minute ("tokens_per_minute") or its AI requests in flight
        ("concurrency")."""
        spent = self.committed()
        if (found := spent_quota(kind, limits, {**spent, "period_cost": self.prior_cost + spent["cost_usd"]})) is not None or kind != "ai":
            return found
        if limits.tokens_per_minute and self.minute_tokens(window_start) >= limits.tokens_per_minute:
            return "tokens_per_minute"
        if limits.max_concurrent and self.in_flight() >= limits.max_concurrent:
            return "concurrency"
        return None

    def add_minute_tokens(self, window_start: int, tokens: float) -> None:
        current = self.minute[1] if self.minute[0] == window_start else 0.0
        self.minute = (window_start, current + tokens)

    def reserve(self, reservation: Reservation, limits: Quotas, now: float, ahead_events: int = 0) -> tuple[str | None, int]:
        """Holds `reservation` until RESERVATION_SECONDS from `now` if its limits are open: (the
        limit found reached (`refusal`), or None; the events held ahead for slots taken ahead:
        `ahead_events` if the quota has plenty left after this request's own, else 0). The same
        request sent again (an id held already) is admitted on its first reservation, not held twice."""
        if reservation.id in self.holds:
            ahead = self.holds.get(ahead_id(reservation.id))
            return None, int(ahead.events) if ahead is not None else 0
        refusal = self.refusal(reservation.kind, limits, minute_of(now))
        if refusal is not None:
            return refusal, 0
        room_ahead = self.room_ahead(reservation, limits, ahead_events)
        self.holds[reservation.id] = replace(reservation, expires=now + RESERVATION_SECONDS)
        if room_ahead:
            self.holds[ahead_id(reservation.id)] = Reservation(ahead_id(reservation.id), "events", events=ahead_events,
                                                               expires=now + AHEAD_SECONDS)
            return None, ahead_events
        return None, 0

    def room_ahead(self, reservation: Reservation, limits: Quotas, ahead_events: int) -> bool:
        """Whether the events quota has plenty left, after `reservation`, for `ahead_events` more
        held for slots taken ahead (their batches are admitted without a call: see the module)."""
        if ahead_events <= 0 or reservation.kind != "events" or reservation.id in self.holds:
            return False
        left = limits.events_per_day - self.committed()["events"] - reservation.events
        return left >= AHEAD_PLENTY * ahead_events

    def settle(self, hold_ids: Iterable[str], delta: Mapping[str, float]) -> None:
        """What requests spent, added to the day; their reservations (those still held) freed."""
        for hold_id in hold_ids:
            self.holds.pop(hold_id, None)
        for name, value in delta.items():
            if name in self.used:
                self.used[name] += value


def minute_of(now: float) -> int:
    """The start of the fixed one-minute window `now` falls in (shared/leases.py WINDOW_SECONDS)."""
    return int(now) - int(now) % WINDOW_SECONDS


def ahead_id(reservation_id: str) -> str:
    return f"{reservation_id}+ahead"
