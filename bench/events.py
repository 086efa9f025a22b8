"""What 10,000 events cost: the events plugin's start (every reminder job
rebuilt from the tables, on the real APScheduler) and the process's RSS, and
the all-events calendar feed (cold: read and serialised; warm: cached) with
its size. Baselines from the same run: the same start with no events, and
the icalendar library alone serialising the same events (no database, no
plugin). Each start runs in a fresh process; medians of --n runs.

    .venv/bin/python bench/events.py [--events 10000] [--n 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from diabot.privacy import Privacy  # noqa: E402
from diabot.scheduler import Scheduler  # noqa: E402
from diabot.storage import Database  # noqa: E402
from diabot.testing import TestBot  # noqa: E402
from plugins.events.config import EventsConfig  # noqa: E402
from plugins.events.ics import CalendarEvent, build  # noqa: E402
from plugins.events.models import Event, Reminder  # noqa: E402
from plugins.events.plugin import EventsPlugin  # noqa: E402

ZONE = ZoneInfo("Europe/Amsterdam")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fill(path: Path, count: int) -> None:
    """`count` future events, one a day-ish apart, each with a reminder 1 day and 1 hour before."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    now = datetime.now(UTC)
    events, reminders = [], []
    for i in range(1, count + 1):
        start = (now + timedelta(days=2, hours=i * 7)).replace(microsecond=0)
        events.append(
            dict(
                id=i,
                uid=f"{uuid.uuid4()}@bench",
                title=f"Netwerkborrel {i}",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="Raadhuisplein 1, Emmen",
                link="https://meet.example/x",
                theme="energy",
                room_id="!energy:bench",
                languages="nl,de",
                capacity=40,
                organiser="@anna:bench",
                status="scheduled",
                sequence=0,
                announcement_event_id=f"$ann{i}",
                counts_dirty=False,
                created_at=now,
                updated_at=now,
            )
        )
        for offset in (timedelta(days=1), timedelta(hours=1)):
            reminders.append(dict(event_id=i, offset_s=int(offset.total_seconds()), due_at=start - offset))
    async with db.transaction() as session:
        for chunk in range(0, len(events), 2000):
            await session.execute(insert(Event), events[chunk : chunk + 2000])
        for chunk in range(0, len(reminders), 4000):
            await session.execute(insert(Reminder), reminders[chunk : chunk + 4000])
    await db.close()


async def child(work: Path) -> dict:
    """In a fresh process (`work` holds a copy of the database): the plugin's start on the real
    scheduler, then the feed."""
    bot = TestBot(work, plugins=["core", "events"])  # the real core services, nothing started
    scheduler = Scheduler(bot.settings.scheduler.misfire_grace_s)
    # The harness built its own plugin; this one gets the real scheduler (and a privacy registry of its own).
    services = replace(bot.services, scheduler=scheduler, privacy=Privacy(work))
    scheduler.start()
    before = rss_mb()
    t0 = time.perf_counter()
    plugin = EventsPlugin(services, EventsConfig())
    await plugin.start()
    await asyncio.sleep(0)  # the scheduler's wake-ups for the added jobs
    started = time.perf_counter() - t0
    jobs = sum(1 for job in scheduler._aps.get_jobs() if job.id.startswith("events.reminder."))
    after = rss_mb()
    t0 = time.perf_counter()
    feed = await plugin.feeds.feed(None, "nl")
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    await plugin.feeds.feed(None, "nl")
    warm = time.perf_counter() - t0
    scheduler.shutdown()
    await bot.db.close()
    return {
        "start_s": started,
        "jobs": jobs,
        "rss_mb": after,
        "rss_before_mb": before,
        "feed_cold_s": cold,
        "feed_warm_s": warm,
        "feed_bytes": len(feed.body),
    }


def library_alone(count: int) -> tuple[float, int]:
    now = datetime.now(UTC)
    events = [
        CalendarEvent(
            uid=f"{i}@bench",
            title=f"Netwerkborrel {i}",
            starts_at=now + timedelta(days=2, hours=i * 7),
            ends_at=now + timedelta(days=2, hours=i * 7 + 2),
            place="Raadhuisplein 1, Emmen",
            link="https://meet.example/x",
            category="Energie",
            description="https://meet.example/x",
            cancelled=False,
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    ]
    t0 = time.perf_counter()
    body = build(events, ZONE, "bench")
    return time.perf_counter() - t0, len(body)


def run_child(db_file: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db_file)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child:
        work = Path(tempfile.mkdtemp(prefix="bench-events-"))
        shutil.copyfile(args.child, work / "diabot.db")
        print(json.dumps(asyncio.run(child(work))))
        shutil.rmtree(work)
        return
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp_name:
        tmp = Path(tmp_name)
        empty, full = tmp / "empty.db", tmp / "full.db"
        asyncio.run(fill(empty, 0))
        t0 = time.perf_counter()
        asyncio.run(fill(full, args.events))
        print(f"filled {args.events} events, {2 * args.events} reminders in {time.perf_counter() - t0:.1f} s")
        runs = {"empty": [run_child(empty) for _ in range(args.n)], "full": [run_child(full) for _ in range(args.n)]}
    library = [library_alone(args.events) for _ in range(args.n)]

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    lib_s = statistics.median(s for s, _ in library)
    rows = [
        (
            "start: reminder jobs rebuilt",
            f"{med('empty', 'start_s') * 1000:.0f} ms (0 events)",
            f"{med('full', 'start_s') * 1000:.0f} ms ({int(med('full', 'jobs'))} jobs)",
            med("full", "start_s") / max(med("empty", "start_s"), 1e-9),
        ),
        (
            "RSS after start",
            f"{med('empty', 'rss_mb'):.0f} MB",
            f"{med('full', 'rss_mb'):.0f} MB",
            med("full", "rss_mb") / med("empty", "rss_mb"),
        ),
        (
            "all-events feed, cold",
            f"{lib_s * 1000:.0f} ms (icalendar alone)",
            f"{med('full', 'feed_cold_s') * 1000:.0f} ms",
            med("full", "feed_cold_s") / lib_s,
        ),
        (
            "all-events feed, cached",
            f"{lib_s * 1000:.0f} ms (icalendar alone)",
            f"{med('full', 'feed_warm_s') * 1000:.1f} ms",
            med("full", "feed_warm_s") / lib_s,
        ),
        (
            "feed size",
            f"{statistics.median(b for _, b in library) / 1e6:.2f} MB",
            f"{med('full', 'feed_bytes') / 1e6:.2f} MB",
            med("full", "feed_bytes") / statistics.median(b for _, b in library),
        ),
    ]
    print(f"\n{args.events} future events, 2 reminders each; medians of {args.n} fresh processes\n")
    print(f"| {'what':<30} | {'baseline':<28} | {'with events':<22} | ratio |")
    print(f"|{'-' * 32}|{'-' * 30}|{'-' * 24}|-------|")
    for what, base, value, ratio in rows:
        print(f"| {what:<30} | {base:<28} | {value:<22} | {ratio:5.2f} |")


if __name__ == "__main__":
    main()
