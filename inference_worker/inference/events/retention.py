"""Bounded storage: raw events past the retention window (EVENTS_RETENTION_DAYS) are deleted by
the scheduled run; the hourly rollups indexing keeps up (store/d1.py) keep their counts, and R2
keeps every batch."""

from typing import Any

from inference.settings import settings_of
from inference.store import stores_of
from shared import clock

PURGED_PER_STATEMENT = 10_000


async def purge_expired(env: Any, now: float | None = None, rounds: int = 20) -> int:
    """Deletes raw events past the retention window, PURGED_PER_STATEMENT a statement, at most
    `rounds` a run (the cron runs every five minutes: a backlog drains over a few runs). The number deleted."""
    now = clock.now() if now is None else now
    before_ms = int((now - settings_of(env).events_retention_days * 86_400) * 1000)
    deleted = 0
    for _ in range(rounds):
        removed = await stores_of(env).db.purge_events(before_ms, PURGED_PER_STATEMENT)
        deleted += removed
        if removed < PURGED_PER_STATEMENT:
            break
    return deleted
