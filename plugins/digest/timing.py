"""When a digest is due: the configured hour (and weekday) in the community's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import DAILY, WEEKLY

PERIOD = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


def next_due(frequency: str, after: datetime, zone: ZoneInfo, hour: int, weekday: int) -> datetime:
    """The first due moment strictly after `after` (UTC), computed on the local calendar so that
    08:00 stays 08:00 across daylight-saving changes. weekday: 0 = Monday."""
    local = after.astimezone(zone)
    day: date = local.date()
    if frequency == WEEKLY:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    step = PERIOD[frequency]
    while True:
        due = datetime.combine(day, time(hour), tzinfo=zone)
        if due > local:
            return due.astimezone(UTC)
        day += step
