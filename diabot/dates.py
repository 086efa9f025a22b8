"""Dates and times as members type them, in Dutch, German and English.

`dateparser` (scrapinghub, maintained) reads the day: weekdays, "morgen",
"3. Dezember", "2026-12-03", "next friday", "over 2 dagen". The time of day is
read here first, because dateparser misreads the forms people use most
("10 uur" -> 06:00, "14 Uhr" -> the year 2114, "9u" -> the 9th): 16:00, 16.00,
16 uur, 16u30, 14 Uhr, 9am, 9 pm. Everything is in the community's zone.

dateparser costs ~65 ms and ~20 MB to import and ~120 ms for the first parse
(it loads its language data), ~1 ms after that: it is imported on first use
and called from a worker thread (`commands.Offloaded`), never on the event loop.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .commands import Offloaded
from .errors import UsageError

LANGUAGES = ["nl", "de", "en"]

_PM = r"pm|p\.m\.|'s\s+middags|'s\s+avonds|smiddags|savonds|nachmittags|abends|in\s+the\s+(?:afternoon|evening)"
_AM = r"am|a\.m\.|'s\s+ochtends|'s\s+morgens|morgens|vormittags|früh|in\s+the\s+morning"
# A time of day needs minutes, a unit (uur/Uhr/u/h) or am/pm: a bare "3" is a day.
_TIME = re.compile(
    rf"""
    (?<![\w.:/-])(?:(?:om|um|at|gegen|rond|around)\s+)?
    (?P<hour>[01]?\d|2[0-3])
    (?:
        [:.](?P<minute>[0-5]\d)(?![\d.:/])\s*(?:uur|uhr|u|h)?
      | \s*(?:uur|uhr|u|h)(?:\s*(?P<minute2>[0-5]\d))?
      | (?=\s*(?:{_AM}|{_PM})\b)
    )
    (?:\s*(?:(?P<pm>{_PM})|(?P<am>{_AM})))?
    (?!\w)
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "in 2 uur", "over 3 uur", "in 2 Stunden": a duration, left to dateparser.
_DURATION_BEFORE = re.compile(r"\b(?:in|over|na|binnen)\s*$", re.IGNORECASE)
# German and Dutch "3.12." is the 3rd of December, which dateparser reads as 03:12.
_DAY_MONTH = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?!\d)")
# "volgende dinsdag" / "nächsten Dienstag" / "this friday": with future dates preferred the weekday alone says it.
_NEXT = re.compile(
    r"\b(?:volgende|komende|aanstaande|deze|nächsten|nächste|kommenden|kommende|diesen|dieser|next|this|coming)\s+(?=\w)",
    re.IGNORECASE,
)
_FILLER = re.compile(r"^(?:op|am|on|den|de)\s+|\s+(?:op|am|on|om|um|at)$", re.IGNORECASE)
_LOCK = threading.Lock()  # dateparser keeps caches that are not documented as thread-safe


@dataclass(frozen=True)
class When:
    at: datetime  # aware, in the community's zone
    has_time: bool  # False: only a day was given, `at` is its midnight


def understand(text: str, zone: ZoneInfo, now: datetime) -> When | None:
    """What `text` means as a moment after `now`, or None if it is not a date/time."""
    text = " ".join(text.split())
    if not text:
        return None
    local_now = now.astimezone(zone)
    clock, text = _take_time(text)
    text = _FILLER.sub("", _DAY_MONTH.sub(r"\1/\2", text)).strip(" ,")
    if not text:
        if clock is None:
            return None
        today = datetime.combine(local_now.date(), clock, zone)
        return When(today if today > local_now else today + timedelta(days=1), True)
    found = _dateparser(text, zone, local_now) or _dateparser(_NEXT.sub("", text), zone, local_now)
    if found is None:
        return None
    if clock is not None:
        return When(datetime.combine(found.date(), clock, zone), True)
    # dateparser keeps the base time for "morgen" and gives midnight for "3 december": only a day was said.
    base_time = local_now.time().replace(second=0, microsecond=0)
    said_time = found.time().replace(second=0, microsecond=0) not in (time(0, 0), base_time)
    if said_time:
        return When(found.astimezone(zone), True)
    return When(datetime.combine(found.date(), time(0, 0), zone), False)


def parse_when(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """A moment with a time of day, or None (not understood, or only a day)."""
    when = understand(text, zone, now)
    return when.at if when is not None and when.has_time else None


def split_when(text: str, zone: ZoneInfo, now: datetime, max_words: int = 7) -> tuple[When, str] | None:
    """The date/time phrase at the start of `text` and the text after it:
    "dinsdag 16:00 @ Bakkerij" -> (Tue 16:00, "@ Bakkerij"). Longest phrase first."""
    words = text.split()
    for n in range(min(max_words, len(words)), 0, -1):
        when = understand(" ".join(words[:n]), zone, now)
        if when is None:
            continue
        # dateparser skips words it does not know ("@", "im"): keep them out of the phrase.
        while n > 1 and understand(" ".join(words[: n - 1]), zone, now) == when:
            n -= 1
        return when, " ".join(words[n:])
    return None


def parse_when_arg(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """For `Arg(type=WHEN)`: a future moment with a time, or a UsageError saying what was understood."""
    when = understand(text, zone, now)
    if when is None:
        raise UsageError("core.error.bad_date", value=text)
    if not when.has_time:
        raise UsageError("core.error.date_without_time", value=text, date=when.at.date())
    if when.at <= now:
        raise UsageError("core.error.date_past", value=text, when=when.at)
    return when.at


def parse_day_arg(text: str, zone: ZoneInfo, now: datetime) -> date:
    """For `Arg(type=DAY)`: a day (a time, if given, is ignored)."""
    when = understand(text, zone, now)
    if when is None:
        raise UsageError("core.error.bad_date", value=text)
    return when.at.date()


WHEN = Offloaded(parse_when_arg)
DAY = Offloaded(parse_day_arg)


def _take_time(text: str) -> tuple[time | None, str]:
    """The first time of day in `text`, and the text without it."""
    for match in _TIME.finditer(text):
        if _DURATION_BEFORE.search(text[: match.start()]):
            continue
        hour = int(match["hour"])
        minute = int(match["minute"] or match["minute2"] or 0)
        if match["pm"] and hour < 12:
            hour += 12
        elif match["am"] and hour == 12:
            hour = 0
        return time(hour, minute), (text[: match.start()] + " " + text[match.end() :]).strip()
    return None, text


def _dateparser(text: str, zone: ZoneInfo, local_now: datetime) -> datetime | None:
    import dateparser  # ~20 MB: only once someone uses a date argument

    settings: Any = {
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": str(zone),
        "TO_TIMEZONE": str(zone),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "DATE_ORDER": "DMY",  # 3/12 is the 3rd of December in nl and de
    }
    with _LOCK:
        found: datetime | None = dateparser.parse(text, languages=LANGUAGES, settings=settings)
    return found
