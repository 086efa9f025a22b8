"""APScheduler 3 (asyncio) with jobs rebuilt from the domain tables at start.

The tables are the source of truth: the scheduler keeps jobs in memory only.
A plugin's job marks its row done in the same transaction as its effects, so
a job that fell due during downtime runs once after restart (if within the
grace period) and never twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, misfire_grace_s: int, now: Callable[[], datetime] | None = None):
        self.misfire_grace_s = misfire_grace_s
        self.now = now or (lambda: datetime.now(UTC))
        self._aps = AsyncIOScheduler(timezone=UTC)

    def start(self) -> None:
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def at(self, job_id: str, when: datetime, func: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        """Run `func(*args)` once at `when`. Overdue within the grace period:
        run now. Older: skip (returns False) — the caller's row stays as it is."""
        now = self.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when < now - timedelta(seconds=self.misfire_grace_s):
            log.info("job too late, not run", extra={"job_id": job_id, "due": when.isoformat()})
            return False
        self._aps.add_job(
            func,
            DateTrigger(max(when, now)),
            args=args,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=self.misfire_grace_s,
            coalesce=True,
        )
        return True

    def every(self, job_id: str, seconds: int, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._aps.add_job(
            func,
            IntervalTrigger(seconds=seconds),
            args=args,
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )

    def cancel(self, job_id: str) -> None:
        if self._aps.get_job(job_id):
            self._aps.remove_job(job_id)

    def has(self, job_id: str) -> bool:
        return self._aps.get_job(job_id) is not None
