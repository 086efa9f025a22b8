"""Members' calendar feeds: a secret address per member (sent by DM, made
anew by `!calendar reset`), served by the bot's web server as iCalendar for
all events or one theme's. An unknown or replaced token, or one of someone
who is no longer a member, gets 404 — the same answer as a wrong address.

A feed names no one (no attendees, no organiser). It is built off the event
loop and kept until an event changes: calendar apps poll, and 10,000 events
take seconds to serialise.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.storage.models import aware

from .ics import CalendarEvent, build
from .models import CANCELLED, CalendarToken, Event

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .config import EventsConfig

REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str


class Feeds:
    def __init__(self, services: Services, config: EventsConfig):
        self.services = services
        self.config = config
        self.zone = ZoneInfo(services.settings.bot.timezone)
        self._cache: dict[tuple[str | None, str], tuple[tuple[object, ...], Feed]] = {}
        self._locks: dict[tuple[str | None, str], asyncio.Lock] = {}

    # ---- tokens ------------------------------------------------------------------------------

    @staticmethod
    async def token_of(session: AsyncSession, user_id: str, *, renew: bool = False) -> str:
        row = await session.get(CalendarToken, user_id)
        if row is not None and not renew:
            return row.token
        token = secrets.token_hex(24)  # letters and digits only: nothing to escape or mistype
        if row is None:
            session.add(CalendarToken(user_id=user_id, token=token))
        else:
            row.token = token
        return token

    async def user_of(self, token: str) -> str | None:
        if not token or len(token) > 64:
            return None
        async with self.services.db.sessions() as session:
            user: str | None = await session.scalar(select(CalendarToken.user_id).where(CalendarToken.token == token))
        return user

    def url(self, token: str, theme: str | None = None) -> str:
        base = self.config.feed_url or _local_base(self.services.settings.web.host, self.services.settings.web.port)
        return f"{base}/events/feed/{token}/{theme}.ics" if theme else f"{base}/events/feed/{token}.ics"

    @staticmethod
    async def erase(session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(CalendarToken).where(CalendarToken.user_id == user_id))

    # ---- calendars -------------------------------------------------------------------------------

    async def feed(self, theme: str | None, lang: str) -> Feed:
        """The feed of one theme (or all), in `lang`; rebuilt only after a change."""
        key = (theme, lang)
        cutoff = (self.services.scheduler.now() - timedelta(days=self.config.feed_past_days)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        async with self.services.db.sessions() as session:
            version = (cutoff, *(await session.execute(self._version_query(theme, cutoff))).one())
        async with self._locks.setdefault(key, asyncio.Lock()):  # one build at a time per feed
            cached = self._cache.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            async with self.services.db.sessions() as session:
                events = await self._events(session, theme, cutoff, lang)
            name = self._name(theme, lang)
            body = await asyncio.to_thread(build, events, self.zone, name, refresh=REFRESH)
            feed = Feed(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            self._cache[key] = (version, feed)
            return feed

    def one(self, event: Event, lang: str) -> bytes:
        """One event as a file (small: built on the loop)."""
        theme = self.services.directory.by_slug(event.theme)
        return build(
            [self._calendar_event(event, theme.name(lang) if theme else event.theme, lang)], self.zone, event.title
        )

    @staticmethod
    def _version_query(theme: str | None, cutoff: datetime) -> Select[int, datetime, int]:
        # Every change counts an event's SEQUENCE up: their sum moves even within one clock tick.
        query = select(func.count(Event.id), func.max(Event.updated_at), func.sum(Event.sequence)).where(
            Event.ends_at >= cutoff
        )
        return query.where(Event.theme == theme) if theme else query

    async def _events(
        self, session: AsyncSession, theme: str | None, cutoff: datetime, lang: str
    ) -> list[CalendarEvent]:
        query = select(Event).where(Event.ends_at >= cutoff).order_by(Event.starts_at)
        if theme:
            query = query.where(Event.theme == theme)
        names = {t.slug: t.name(lang) for t in self.services.directory.themes(include_archived=True)}
        rows = (await session.scalars(query)).all()
        return [self._calendar_event(e, names.get(e.theme, e.theme), lang) for e in rows]

    def _calendar_event(self, event: Event, theme_name: str, lang: str) -> CalendarEvent:
        i18n = self.services.i18n
        lines: list[str] = [i18n.t(lang, "events.ics.description", id=event.id)]
        if event.link:
            lines.insert(0, event.link)
        return CalendarEvent(
            uid=event.uid,
            title=event.title,
            starts_at=_aware(event.starts_at),
            ends_at=_aware(event.ends_at),
            place=event.place,
            link=event.link,
            category=theme_name,
            description="\n".join(lines),
            cancelled=event.status == CANCELLED,
            sequence=event.sequence,
            created_at=_aware(event.created_at),
            updated_at=_aware(event.updated_at),
        )

    def _name(self, theme: str | None, lang: str) -> str:
        i18n = self.services.i18n
        found = self.services.directory.by_slug(theme) if theme else None
        if found is not None:
            return str(i18n.t(lang, "events.ics.theme_name", theme=found.name(lang)))
        return str(i18n.t(lang, "events.ics.name"))


def _aware(moment: datetime) -> datetime:
    found = aware(moment)
    assert found is not None
    return found


def _local_base(host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"
