"""One line describing an event, as members type it on a phone:

    "Netwerkborrel Emmen" dinsdag 16:00 @ Raadhuisplein 1, Emmen + https://meet.example/x #energie max 40

The title comes first (in double quotes, or the words before the date); the
date and time in natural Dutch, German or English (diabot.dates); `@ place`
(to the end of the line), `+ link` (or any http(s) link), `#theme`,
`max N`, and a length (`duur 3 uur`, `Dauer 90 min`, `16:00-18:30`,
`tot 18:00`). Blocking (dateparser): run it in a worker thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from diabot.commands import OPEN_QUOTES, next_word
from diabot.dates import When, split_when, understand
from diabot.errors import UsageError

MAX_TITLE = 200
MAX_PLACE = 300
MAX_LINK = 500
MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(days=7)

_LINK = re.compile(r"(?:^|(?<=\s))\+?\s*(https?://\S+)", re.IGNORECASE)
_THEME = re.compile(r"(?:^|(?<=\s))#([\w-]+)")
_CAPACITY = re.compile(
    r"(?:^|(?<=\s))(?:max(?:imaal|imal|imum)?\.?|capaciteit|capacity|kapazität|plaatsen|plätze|seats)\s*:?\s*(\d{1,6})"
    r"(?=\s|$|[.,;])",
    re.IGNORECASE,
)
_UNITS = {"uur": 60, "u": 60, "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "stunde": 60, "stunden": 60}
_UNITS |= {"std": 60, "std.": 60, "min": 1, "minuten": 1, "minutes": 1, "minute": 1, "m": 1}
_UNITS |= {"dag": 1440, "dagen": 1440, "tag": 1440, "tage": 1440, "day": 1440, "days": 1440, "d": 1440}
_DURATION = re.compile(
    r"(?:^|(?<=\s))(?:duur|dauer|duration|lengte|länge)\s*:?\s*(\d+(?:[.,]\d+)?)\s*"
    r"(uur|u|hrs?|hours?|h|stunden?|std\.?|minuten|minutes?|min|m|dagen|dag|tage?|days?|d)(?=\s|$|[.,;])",
    re.IGNORECASE,
)
# "16:00-18:30", "16.00 – 18.00": a start and an end on one day.
_RANGE = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])[:.]([0-5]\d)\s*[-–]\s*([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d:.])")
_UNTIL = re.compile(
    r"(?:^|(?<=\s))(?:tot|bis|until|till)\s+([01]?\d|2[0-3])(?:[:.]([0-5]\d))?\s*(?:uur|uhr|u|h)?(?=\s|$|[.,;])",
    re.IGNORECASE,
)
_PLACE = re.compile(r"(?:^|(?<=\s))@\s*(.*)$", re.DOTALL)
# "dinsdag 16:00 in De Bakkerij": a place said without @.
_PREPOSITION = re.compile(r"^(?:in|im|bij|bei|op|auf|at|te|zu)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class EventLine:
    title: str
    when: When
    date_text: str  # what was read as the date, for answers that show how it was understood
    duration: timedelta | None = None
    end_time: time | None = None  # "tot 18:00": the end on the start's day
    place: str | None = None
    link: str | None = None
    theme: str | None = None
    capacity: int | None = None

    def ends(self, default: timedelta) -> datetime:
        start = self.when.at
        if self.end_time is not None:
            end = datetime.combine(start.date(), self.end_time, start.tzinfo)
            return end if end > start else end + timedelta(days=1)
        return start + (self.duration or default)


@dataclass(frozen=True)
class Extras:
    """What the markers of a line say; `rest` is the text left for the title and date."""

    rest: str
    place: str | None = None
    link: str | None = None
    theme: str | None = None
    capacity: int | None = None
    duration: timedelta | None = None
    end_time: time | None = None


def take_extras(text: str) -> Extras:
    """The markers, taken out of `text` (links first: a URL may hold # or @; the place last)."""
    link = None
    if found := _LINK.search(text):
        link = found.group(1).rstrip(".,;)")
        text = text[: found.start()] + " " + text[found.end() :]
    theme = None
    if found := _THEME.search(text):
        theme = found.group(1)
        text = text[: found.start()] + " " + text[found.end() :]
    capacity = None
    if found := _CAPACITY.search(text):
        capacity = int(found.group(1))
        text = text[: found.start()] + " " + text[found.end() :]
    duration = None
    if found := _DURATION.search(text):
        amount = float(found.group(1).replace(",", "."))
        duration = timedelta(minutes=round(amount * _UNITS[found.group(2).lower()]))
        text = text[: found.start()] + " " + text[found.end() :]
    end_time = None
    if found := _RANGE.search(text):
        end_time = time(int(found.group(3)), int(found.group(4)))
        text = text[: found.start()] + f" {found.group(1)}:{found.group(2)} " + text[found.end() :]
    elif found := _UNTIL.search(text):
        end_time = time(int(found.group(1)), int(found.group(2) or 0))
        text = text[: found.start()] + " " + text[found.end() :]
    place = None  # last: it runs to the end of what is left
    if found := _PLACE.search(text):
        place = " ".join(found.group(1).split()) or None
        text = text[: found.start()]
    if duration is not None and not MIN_DURATION <= duration <= MAX_DURATION:
        raise UsageError("events.error.duration")
    return Extras(" ".join(text.split()), place, link, theme, capacity, duration, end_time)


def read_when(text: str, zone: ZoneInfo, now: datetime) -> When:
    """The date and time in `text` (the whole of it), in the future; or a
    UsageError that shows how it was understood."""
    when = understand(text, zone, now) if text else None
    if when is None:
        raise UsageError("events.error.bad_date", value=text)
    return checked(when, text, now)


def checked(when: When, text: str, now: datetime) -> When:
    if not when.has_time:
        raise UsageError("core.error.date_without_time", value=text, date=when.at.date())
    if when.at <= now:
        raise UsageError("core.error.date_past", value=text, when=when.at)
    return When(when.at.replace(microsecond=0), True)


def parse_line(text: str, zone: ZoneInfo, now: datetime) -> EventLine:
    """The whole line; UsageError with what was (not) understood."""
    text = " ".join(text.split())
    title: str | None = None
    if text[:1] in OPEN_QUOTES:
        found = next_word(text)
        assert found is not None
        title, end = found
        text = text[end:]
    extras = take_extras(text)
    rest = extras.rest
    if title is None:
        title, rest = _split_title(rest, zone, now)
    title = title.strip()
    if not title:
        raise UsageError("events.error.no_title")
    if not rest:
        raise UsageError("events.error.no_date")
    place = extras.place
    when = understand(rest, zone, now)
    date_text = rest
    if when is None:
        split = split_when(rest, zone, now)
        if split is None:
            raise UsageError("events.error.bad_date", value=rest)
        when, leftover = split
        date_text = rest[: len(rest) - len(leftover)].strip()
        if place is None:
            place = _PREPOSITION.sub("", leftover).strip() or None
        else:
            raise UsageError("events.error.leftover", extra=leftover)
    line = EventLine(
        title=title,
        when=checked(when, date_text, now),
        date_text=date_text,
        duration=extras.duration,
        end_time=extras.end_time,
        place=place,
        link=extras.link,
        theme=extras.theme,
        capacity=extras.capacity,
    )
    check_lengths(line.title, line.place, line.link)
    return line


def check_lengths(title: str | None, place: str | None, link: str | None) -> None:
    for value, limit in ((title, MAX_TITLE), (place, MAX_PLACE), (link, MAX_LINK)):
        if value is not None and len(value) > limit:
            raise UsageError("events.error.too_long", max=limit, length=len(value))


def _split_title(text: str, zone: ZoneInfo, now: datetime) -> tuple[str, str]:
    """An unquoted title: the words before the first that starts a date."""
    words = text.split()
    for i in range(1, len(words)):
        rest = " ".join(words[i:])
        split = split_when(rest, zone, now)
        if split is not None:
            return " ".join(words[:i]), rest
    raise UsageError("events.error.no_title_or_date")
