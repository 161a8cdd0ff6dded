"""Admissions taken ahead, in the api: a request of a caller this isolate knows asks the caller's
counter for a few slots of its rate window instead of one, and this isolate admits the caller's
next requests from them, without a call. Two kinds use them, each with its own slots: reads
(routes whose only call to the inference service would be their admission; checked against the
per-minute limit only, so a slot is all they need) and event batches (a batch admitted from a slot
goes to the event queue with no call at all; it needs events of the day's quota too, which the
request that took the slots reserved for them at the counter: shared/reservations.py). Slots are
held per holder: a key by its prefix, a JWT by its subject.

What it trades, and how little: every slot is counted in the window when granted, so the limit is
never exceeded. A slot granted here and not used is counted all the same, so until the window ends
another isolate may refuse a request while this one holds a slot. So slots are asked for only while
the window has plenty left (the caller's last known remaining is at least 4 times the ask) and no
other admission of the caller is in flight here, and at most a thirtieth of the limit (the lease
size at most): a tier of fewer than 60 requests a minute never asks for more than its own slot. A
request the counter refused takes a slot this isolate holds, if it holds one. Answers that arrive
together add their slots to what this isolate holds (never replace them: a slot granted is used or
its window ends). What can still happen: a burst that reaches the limit while an ask is in flight
is refused up to that ask's size less one early (per isolate, at most 3% of the limit). (Requests
do not wait for another's ask: workerd forbids one request to wake another's awaits.)"""

import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shared.bounded import BoundedMap
from shared.contract import AdmissionResult, RateWindow

# Holders with slots held here (a lease takes ~1 KB): past either bound the least recently used
# holder's unused slots are lost (never used twice), far above the callers an isolate serves at once.
MAX_LEASED_CALLERS = 10_000
MAX_LEASE_BYTES = 1024 * 1024
PLENTY = 4  # slots are asked for only while the window's remaining is at least this many times the ask
WINDOW_SECONDS = 60  # the counter's fixed windows
LIMIT_SHARE = 30  # an ask is at most this share of the limit: at most 3% of a window held unused per isolate


def slots_to_take(current: int, reserve: int, limit: int) -> int:
    """How many slots of a rate window holding `current` a request asking for `reserve` takes (the
    counter's arithmetic, inference/counter.py): all of them while they fit under `limit`, what is
    left when fewer do, and always the request's own (a refused request counts too). No known
    limit (0): one."""
    return max(1, min(reserve, limit - current)) if limit > 0 else 1


@dataclass
class Lease:
    window_end: float  # unix seconds
    left: int  # slots granted here and not used yet
    limit: int
    remaining: int  # the window's slots left as the counter last said, less the ones used here since
    # Batches' slots: events of the day's quota the counter holds for them (None for reads, which
    # spend no quota), less the events of the batches admitted from them here.
    events_held: int | None = None


def same_window(window_end: float, other_end: float) -> bool:
    """Whether two answers' window ends (each the moment it was received plus its reset) are one
    window's: windows are WINDOW_SECONDS apart, an answer's end is off by its latency and rounding."""
    return abs(window_end - other_end) < WINDOW_SECONDS / 2


class Leases:
    """Per isolate: each holder's slots of its current window, and its admissions in flight."""

    def __init__(self) -> None:
        self._leases: BoundedMap[str, Lease] = BoundedMap(MAX_LEASED_CALLERS, MAX_LEASE_BYTES)
        self._in_flight: Counter[str] = Counter()  # admissions at the counter now, per holder

    def take(self, holder: str, now: float, events: int = 0) -> RateWindow | None:
        """A slot for a request of `holder` (its rate window, for the headers), or None. A batch of
        `events` needs that many of the events held for the slots too."""
        lease = self._leases.get(holder)
        if lease is None or lease.left <= 0 or now >= lease.window_end:
            return None
        if lease.events_held is not None:
            if lease.events_held < max(1, events):
                return None
            lease.events_held -= events
        lease.left -= 1
        lease.remaining = max(0, lease.remaining - 1)
        return RateWindow(limit=lease.limit, remaining=lease.remaining, reset_seconds=max(1, math.ceil(lease.window_end - now)))

    def ask_size(self, holder: str, limit: int, lease_size: int, now: float) -> int:
        """How many slots a request of `holder` asks for: one unless the window has plenty left
        and no other admission of the holder is in flight here."""
        ask = min(lease_size, limit // LIMIT_SHARE)
        lease = self._leases.get(holder)
        if ask <= 1 or self._in_flight[holder] or lease is None or now >= lease.window_end or lease.remaining < PLENTY * ask:
            return 1
        return ask

    @contextmanager
    def admitting(self, holder: str) -> Iterator[None]:
        """Around an admission of `holder` at the counter: while one is in flight, the holder's
        other requests ask for one slot each."""
        self._in_flight[holder] += 1
        try:
            yield
        finally:
            self._in_flight[holder] -= 1
            if not self._in_flight[holder]:
                del self._in_flight[holder]

    def answered(self, holder: str, granted: int, window: RateWindow, now: float, events_held: int | None = None) -> None:
        """What the counter said to a request of `holder`: slots granted (the request's own first,
        none if refused), the window as that request leaves it, and (a batch's) the events held for
        the slots beyond its own. Added to the slots held here for the same window: answers of
        requests sent together arrive in any order, and each one's slots are counted already."""
        window_end = now + window.reset_seconds
        lease = self._leases.get(holder)
        if lease is not None and now < lease.window_end and same_window(lease.window_end, window_end):
            lease.left += max(0, granted - 1)
            lease.remaining = min(lease.remaining, window.remaining)
            lease.window_end = window_end
            if events_held is not None:
                lease.events_held = (lease.events_held or 0) + events_held
            return
        self._leases.put(holder, Lease(window_end=window_end, left=max(0, granted - 1), limit=window.limit,
                                       remaining=window.remaining, events_held=events_held))

    def forget(self, holder: str) -> None:
        self._leases.pop(holder)

    async def admit(self, holder: str, now: float, ask: Callable[[int], Awaitable[AdmissionResult]], *, verified: bool,
                    limit: int, lease_size: int, events: int | None = None) -> AdmissionResult:
        """Admits a request of `holder`: from a slot held here if the caller is `verified` (known
        here, of a tier allowing `limit` requests a minute), else by `ask` (the caller's counter,
        through the inference service: it verifies the caller), given how many slots to take. A
        batch of `events` (None: a read) needs as many events held for the slot. A slot served
        here is an AdmissionResult without a caller (made without validation: a read served from
        a slot does little else)."""
        if verified and (window := self.take(holder, now, events or 0)) is not None:
            return AdmissionResult.model_construct(allowed=True, window=window, granted=1)
        reserve = self.ask_size(holder, limit, lease_size, now) if verified else 1
        with self.admitting(holder):
            result = await ask(reserve)
        if result.window is None:
            return result
        if not result.allowed and result.reason == "rate_limit" and (window := self.take(holder, now, events or 0)) is not None:
            # Refused while another request of this isolate was given a slot it has not used: this
            # one takes it (counted already), so no slot granted here is wasted while requests wait.
            return AdmissionResult.model_construct(allowed=True, window=window, granted=1)
        self.answered(holder, result.granted if result.allowed else 0, result.window, now,
                      None if events is None else result.events_ahead)
        return result
