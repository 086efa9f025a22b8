"""The texts about an event: the announcement (both languages in a
cross-border room, each with the weekday and date in its own language), its
counts, the short lines of lists and answers. Markdown, built from catalog
texts; titles and places are user text and go in as placeholders (escaped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from diabot.formatting import Markdown
from diabot.i18n import Catalog
from diabot.storage.models import aware

from .models import CANCELLED, Event

FLAGS = {"nl": "🇳🇱", "de": "🇩🇪", "en": "🇬🇧"}


@dataclass(frozen=True)
class Counts:
    yes: int = 0
    maybe: int = 0
    no: int = 0
    waiting: int = 0


def languages_of(event: Event) -> list[str]:
    return [lang for lang in event.languages.split(",") if lang]


def span(i18n: Catalog, lang: str, start: datetime, end: datetime) -> Markdown:
    """ "dinsdag 1 december 2026, 16:00–18:00" (the end's day too if it differs). Markdown: only
    CLDR's words and digits, nothing to escape ("01.12.2026" would become "01\\.12.2026")."""
    start_day, end_day = i18n.date(lang, start), i18n.date(lang, end)
    if start_day == end_day:
        return Markdown(f"{start_day}, {i18n.time(lang, start)}–{i18n.time(lang, end)}")
    return Markdown(f"{start_day}, {i18n.time(lang, start)} – {end_day}, {i18n.time(lang, end)}")


def event_span(i18n: Catalog, lang: str, event: Event) -> Markdown:
    return span(i18n, lang, _aware(event.starts_at), _aware(event.ends_at))


def short_when(i18n: Catalog, lang: str, event: Event) -> Markdown:
    start = _aware(event.starts_at)
    return Markdown(f"{i18n.date(lang, start, width='medium')} {i18n.time(lang, start)}")


def _aware(moment: datetime) -> datetime:
    found = aware(moment)
    assert found is not None
    return found


def counts_line(i18n: Catalog, langs: list[str], event: Event, counts: Counts) -> str:
    parts = [f"✅ {counts.yes} · ❓ {counts.maybe} · ❌ {counts.no}"]
    if event.capacity is not None:
        free = max(event.capacity - counts.yes, 0)
        key = "events.ann.free" if free else "events.ann.full"
        parts.append(" / ".join(i18n.t(lang, key, count=free, capacity=event.capacity) for lang in langs))
    if counts.waiting:
        parts.append(" / ".join(i18n.t(lang, "events.ann.waiting", count=counts.waiting) for lang in langs))
    return " · ".join(parts)


def announcement(i18n: Catalog, event: Event, counts: Counts) -> str:
    langs = languages_of(event)
    flag = len(langs) > 1
    first = langs[0]
    cancelled = event.status == CANCELLED
    key = "events.ann.cancelled_title" if cancelled else "events.ann.title"
    lines: list[str] = [i18n.t(first, key, title=event.title, id=event.id)]
    for lang in langs:
        lines.append(_flagged(flag, lang, i18n.t(lang, "events.ann.when", when=event_span(i18n, lang, event))))
    if event.place:
        lines.append(i18n.t(first, "events.ann.place", place=event.place))
    if event.link:
        lines.append(i18n.t(first, "events.ann.link", link=event.link))
    if cancelled:
        lines.extend(_flagged(flag, lang, i18n.t(lang, "events.ann.cancelled")) for lang in langs)
        return "\n".join(lines)
    lines.append(counts_line(i18n, langs, event, counts))
    lines.extend(_flagged(flag, lang, i18n.t(lang, "events.ann.how", id=event.id)) for lang in langs)
    return "\n".join(lines)


def _flagged(flag: bool, lang: str, text: str) -> str:
    return f"{FLAGS.get(lang, '')} {text}" if flag else text


def details(i18n: Catalog, lang: str, event: Event, counts: Counts, theme_name: str) -> str:
    """An event for one reader (!event <id>, the creation answer)."""
    key = "events.ann.cancelled_title" if event.status == CANCELLED else "events.ann.title"
    lines: list[str] = [i18n.t(lang, key, title=event.title, id=event.id)]
    lines.append(i18n.t(lang, "events.ann.when", when=event_span(i18n, lang, event)))
    if event.place:
        lines.append(i18n.t(lang, "events.ann.place", place=event.place))
    if event.link:
        lines.append(i18n.t(lang, "events.ann.link", link=event.link))
    lines.append(i18n.t(lang, "events.show.theme", theme=theme_name))
    lines.append(counts_line(i18n, [lang], event, counts))
    return "\n".join(lines)


def list_line(i18n: Catalog, lang: str, event: Event, counts: Counts, theme_name: str) -> str:
    seats = f"{counts.yes}/{event.capacity}" if event.capacity is not None else str(counts.yes)
    return i18n.t(
        lang,
        "events.list.line",
        id=event.id,
        when=short_when(i18n, lang, event),
        title=event.title,
        yes=seats,
        theme=theme_name,
    )


def before_text(i18n: Catalog, lang: str, offset: timedelta) -> str:
    """ "1 dag", "1 Stunde", "30 minutes": how long before the start."""
    seconds = int(offset.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return i18n.t(lang, f"events.unit.{unit}", count=seconds // size)
    return i18n.t(lang, "events.unit.minute", count=max(round(seconds / 60), 1))
