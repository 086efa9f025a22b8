"""Jobs come from domain rows; an overdue job runs once after a restart,
never twice, and one beyond the grace period is not run."""

import asyncio
from datetime import UTC, datetime, timedelta

from diabot.scheduler import Scheduler


class Reminders:
    """A stand-in domain table: id -> (due, done)."""

    def __init__(self, rows):
        self.rows = rows
        self.runs = []

    async def fire(self, rid):
        # The real plugins mark the row done in the same transaction as the effect.
        if self.rows[rid]["done"]:
            return
        self.rows[rid]["done"] = True
        self.runs.append(rid)

    def rebuild(self, scheduler):
        for rid, row in self.rows.items():
            if not row["done"]:
                scheduler.at(f"rem:{rid}", row["due"], self.fire, rid)


async def test_overdue_runs_once_after_restart_and_stale_is_skipped():
    now = datetime.now(UTC)
    table = Reminders(
        {
            1: {"due": now - timedelta(minutes=5), "done": False},  # fell due during downtime
            2: {"due": now - timedelta(days=2), "done": False},  # beyond grace
            3: {"due": now + timedelta(milliseconds=300), "done": False},
        }
    )
    for _restart in range(2):
        scheduler = Scheduler(misfire_grace_s=3600)
        scheduler.start()
        table.rebuild(scheduler)
        await asyncio.sleep(0.6)
        scheduler.shutdown()
    assert sorted(table.runs) == [1, 3]
    assert table.rows[2]["done"] is False


async def _until(condition, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_every_repeats_until_cancelled():
    calls = []

    async def tick(tag):
        calls.append(tag)

    scheduler = Scheduler(misfire_grace_s=10)
    scheduler.start()
    try:
        scheduler.every("x", 0.2, tick, "job-arg")
        assert scheduler.has("x")
        await _until(lambda: len(calls) >= 3, timeout_s=5)  # repeats, not once
        assert set(calls) == {"job-arg"}
        scheduler.cancel("x")
        assert not scheduler.has("x")
        seen = len(calls)
        await asyncio.sleep(0.7)  # three more periods: a job that was not removed would have run
        assert len(calls) == seen
    finally:
        scheduler.shutdown()


async def test_cancelled_one_off_job_never_runs():
    calls = []

    async def tick():
        calls.append(1)

    scheduler = Scheduler(misfire_grace_s=10)
    scheduler.start()
    try:
        scheduler.at("x", datetime.now(UTC) + timedelta(seconds=0.3), tick)
        assert scheduler.has("x")
        scheduler.cancel("x")
        assert not scheduler.has("x")
        scheduler.at("y", datetime.now(UTC) + timedelta(seconds=0.3), tick)  # the barrier: a later job that runs
        await _until(lambda: calls, timeout_s=5)
        await asyncio.sleep(0.1)
        assert calls == [1]
    finally:
        scheduler.shutdown()
