"""Creating, changing and cancelling events. Every change counts SEQUENCE up
(calendars replace their copy), edits the announcement (throttled) and, when
the time or place moved, tells those who said yes in the announcement's
thread; a cancellation reaches each of them by DM too."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from diabot.context import Context
from diabot.directory import ThemeInfo
from diabot.errors import Forbidden, UsageError
from diabot.storage.models import KnownRoom, aware

from .models import CANCELLED, SCHEDULED, Event
from .parsing import EventLine, check_lengths, parse_line, read_when, take_extras
from .public_holidays import holidays_on
from .rendering import details, event_span
from .rsvp import RsvpBook
from .sessions import speaking_to

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .announcements import Announcer
    from .config import EventsConfig
    from .reminders import Reminders

CANCEL_PURPOSE = "events.cancelled"
CHANGE_PURPOSE = "events.changed"
CLEAR_WORDS = {"-", "geen", "niets", "keine", "kein", "nichts", "none", "no", "nee", "nein"}
# The fields of `!event edit`, by the words members type for them.
FIELDS = {
    "title": ("title", "titel", "naam", "name"),
    "when": ("when", "date", "time", "wanneer", "datum", "tijd", "wann", "zeit"),
    "duration": ("duration", "duur", "dauer", "lengte"),
    "place": ("place", "location", "where", "plaats", "locatie", "waar", "ort", "wo"),
    "link": ("link", "url"),
    "max": ("max", "capacity", "capaciteit", "kapazität", "plaatsen", "plätze"),
}
FIELD_BY_WORD = {word: field for field, words in FIELDS.items() for word in words}
FIELD_CHOICES = {
    "nl": ("titel", "wanneer", "duur", "plaats", "link", "max"),
    "de": ("titel", "wann", "dauer", "ort", "link", "max"),
    "en": ("title", "when", "duration", "place", "link", "max"),
}


def parse_event_id(text: str) -> int:
    """ "12" or "#12"."""
    number = int(text.lstrip("#"))
    if number <= 0:
        raise ValueError(text)
    return number


class EventDesk:
    def __init__(self, services: Services, config: EventsConfig, announcer: Announcer, reminders: Reminders):
        self.services = services
        self.config = config
        self.announcer = announcer
        self.reminders = reminders
        self.rsvps = RsvpBook(services, announcer)
        self.zone = ZoneInfo(services.settings.bot.timezone)
        self.default_duration = timedelta(minutes=config.default_duration_min)

    def now(self) -> datetime:
        return self.services.scheduler.now()

    # ---- reading a line --------------------------------------------------------------------

    async def read_line(self, text: str) -> EventLine:
        """dateparser is slow and blocking: in a worker thread."""
        return await asyncio.to_thread(parse_line, text, self.zone, self.now())

    # ---- creating ------------------------------------------------------------------------------

    def theme_for(self, text: str | None, origin_room: str | None) -> ThemeInfo:
        directory = self.services.directory
        slugs = ", ".join(f"#{t.slug}" for t in directory.themes())
        if text:
            found = directory.find(text)
            if found is None:
                raise UsageError("events.error.no_theme", theme=text, themes=slugs)
            return found
        found = directory.theme_of(origin_room) if origin_room else None
        if found is None or found.archived:
            found = directory.by_slug(self.config.default_theme) if self.config.default_theme else None
        if found is None:
            raise UsageError("events.error.which_theme", themes=slugs)
        return found

    async def create(self, ctx: Context, line: EventLine, origin_room: str | None) -> Event:
        theme = self.theme_for(line.theme, origin_room)
        if theme.invite_only and not (
            self.services.rooms.has_joined(theme.room_id, ctx.sender)
            or await self.services.permissions.is_community_moderator(ctx.sender)
        ):
            raise Forbidden("events.error.closed_theme", theme=theme.name(ctx.lang))
        if line.capacity is not None and line.capacity < 1:
            raise UsageError("events.error.capacity")
        now = self.now()
        event = Event(
            uid=f"{uuid.uuid4()}@{self.services.bot_user_id.partition(':')[2] or 'diabot'}",
            title=line.title,
            # In UTC: SQLite keeps a datetime's wall-clock time and drops its zone.
            starts_at=line.when.at.astimezone(UTC),
            ends_at=line.ends(self.default_duration).astimezone(UTC),
            place=line.place,
            link=line.link,
            theme=theme.slug,
            room_id=theme.room_id,
            languages=",".join(await self._room_languages(ctx, theme.room_id)),
            capacity=line.capacity,
            organiser=ctx.sender,
            status=SCHEDULED,
            sequence=0,
            counts_dirty=False,
            created_at=now,
            updated_at=now,
        )
        ctx.session.add(event)
        await ctx.session.flush()
        await self.announcer.post(ctx, event)
        await self.reminders.plan(ctx.session, event)
        lines = [ctx.t("events.created", id=event.id, theme=theme.name(ctx.lang))]
        lines.append(
            details(
                self.services.i18n,
                ctx.lang,
                event,
                await self.announcer.counts(ctx.session, event.id),
                theme.name(ctx.lang),
            )
        )
        if warning := await self.holiday_warning(ctx.lang, event):
            lines.append(warning)
        lines.append(ctx.t("events.created.hints", id=event.id))
        ctx.reply_markdown("\n\n".join(lines))
        return event

    async def _room_languages(self, ctx: Context, room_id: str) -> list[str]:
        """The room's language if a moderator chose one; else both sides of the border."""
        chosen = await ctx.session.scalar(select(KnownRoom.language).where(KnownRoom.room_id == room_id))
        return [chosen] if chosen else ["nl", "de"]

    async def holiday_warning(self, lang: str, event: Event) -> str | None:
        start = aware(event.starts_at)
        assert start is not None
        day = start.astimezone(self.zone).date()
        found = await asyncio.to_thread(holidays_on, day, self.config.holiday_regions, lang, self.services.i18n)
        if not found:
            return None
        names = ", ".join(f"{h.name} ({h.region})" for h in found)
        return self.services.i18n.t(lang, "events.holiday", date=self.services.i18n.date(lang, day), names=names)

    # ---- finding, and who may change ------------------------------------------------------------

    @staticmethod
    async def get(ctx: Context, event_id: int) -> Event:
        event = await ctx.session.get(Event, event_id)
        if event is None:
            raise UsageError("events.error.no_such_event", id=event_id)
        return event

    async def get_for_change(self, ctx: Context, event_id: int) -> Event:
        event = await self.get(ctx, event_id)
        if event.organiser != ctx.sender and not await self.services.permissions.is_community_moderator(ctx.sender):
            raise Forbidden("events.error.not_organiser", id=event_id)
        if event.status == CANCELLED:
            raise UsageError("events.error.cancelled", id=event_id)
        return event

    # ---- changing -------------------------------------------------------------------------------

    async def edit(self, ctx: Context, event_id: int, field: str, value: str) -> None:
        event = await self.get_for_change(ctx, event_id)
        cleared = value.strip().lower() in CLEAR_WORDS
        moved = False
        if field == "title":
            check_lengths(value, None, None)
            event.title = value
        elif field == "when":
            moved = await self._move(event, value)
        elif field == "duration":
            extras = await asyncio.to_thread(take_extras, f"duur {value}")
            if extras.duration is None:
                raise UsageError("events.error.duration")
            start = aware(event.starts_at)
            assert start is not None
            event.ends_at = start + extras.duration
            moved = True
        elif field == "place":
            check_lengths(None, value, None)
            event.place, moved = (None if cleared else value), True
        elif field == "link":
            if not cleared and not value.lower().startswith(("http://", "https://")):
                raise UsageError("events.error.link")
            check_lengths(None, None, value)
            event.link, moved = (None if cleared else value), True
        elif field == "max":
            event.capacity = None if cleared else _capacity(value)
        event.sequence += 1
        event.updated_at = self.now()
        if field == "when":
            await self.reminders.replan(ctx.session, event)
        if field == "max":
            await self.rsvps.rebalance(ctx, event)
        await self.announcer.refresh(ctx, event)
        if moved:
            await self._tell_changed(ctx, event)
        theme = self.services.directory.by_slug(event.theme)
        counts = await self.announcer.counts(ctx.session, event.id)
        lines = [ctx.t("events.edited", id=event.id)]
        lines.append(
            details(self.services.i18n, ctx.lang, event, counts, theme.name(ctx.lang) if theme else event.theme)
        )
        if field == "when" and (warning := await self.holiday_warning(ctx.lang, event)):
            lines.append(warning)
        ctx.reply_markdown("\n\n".join(lines))

    async def _move(self, event: Event, value: str) -> bool:
        """A new start (and optionally a length or end, as when creating); the length stays otherwise."""
        extras = await asyncio.to_thread(take_extras, value)
        when = await asyncio.to_thread(read_when, extras.rest, self.zone, self.now())
        start, end = aware(event.starts_at), aware(event.ends_at)
        assert start is not None and end is not None
        line = EventLine("", when, extras.rest, duration=extras.duration or (end - start), end_time=extras.end_time)
        event.starts_at, event.ends_at = when.at.astimezone(UTC), line.ends(self.default_duration).astimezone(UTC)
        return True

    async def _tell_changed(self, ctx: Context, event: Event) -> None:
        coming = await RsvpBook.seated(ctx, event.id)
        if not coming:
            return
        i18n = self.services.i18n

        def text(lang: str) -> str:
            lines = [i18n.t(lang, "events.changed", title=event.title, when=event_span(i18n, lang, event))]
            if event.place:
                lines.append(i18n.t(lang, "events.ann.place", place=event.place))
            if event.link:
                lines.append(i18n.t(lang, "events.ann.link", link=event.link))
            return "\n".join(lines)

        posted = await self.announcer.in_thread(ctx, event, text, coming)
        for user in coming:
            ctx.ledger.record(posted, CHANGE_PURPOSE, subject=str(event.id), user_id=user)

    async def cancel(self, ctx: Context, event_id: int) -> None:
        event = await self.get_for_change(ctx, event_id)
        concerned = await RsvpBook.said_yes(ctx, event.id)
        dms = {user: await self.services.direct.open(user) for user in concerned}  # before writing (see rsvp.py)
        event.status = CANCELLED
        event.sequence += 1
        event.updated_at = self.now()
        await self.reminders.drop_unsent(ctx.session, event)
        await self.announcer.refresh(ctx, event)
        i18n = self.services.i18n

        def room_text(lang: str) -> str:
            return i18n.t(lang, "events.cancelled.room", title=event.title, when=event_span(i18n, lang, event))

        posted = await self.announcer.in_thread(ctx, event, room_text, concerned)
        for user, dm in dms.items():
            ctx.ledger.record(posted, CANCEL_PURPOSE, subject=str(event.id), user_id=user)
            them = await speaking_to(ctx, user)
            when = event_span(i18n, them.lang, event)
            them.text(dm, them.t("events.cancelled.dm", title=event.title, when=when), mentions=[user])
        ctx.reply("events.cancelled.done", id=event.id, title=event.title, count=len(concerned))


def _capacity(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise UsageError("events.error.capacity") from None
    if number < 1:
        raise UsageError("events.error.capacity")
    return number
