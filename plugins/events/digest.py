"""The events plugin's part of the digest: events announced since the last
digest that are still to come, in the themes whose rooms the member is in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.plugin import Services
from diabot.storage.models import aware

from .models import SCHEDULED, Event

LIMIT = 10


class EventsDigest:
    def __init__(self, services: Services):
        self.services = services
        self.zone = ZoneInfo(services.settings.bot.timezone)

    def register(self) -> None:
        self.services.insights.register_digest("events", self.for_member)
        self.services.insights.register_room_digest("events", self.for_theme)

    async def for_member(self, session: AsyncSession, user_id: str, since: datetime, lang: str) -> list[str]:
        rooms = self.services.rooms
        themes = [t.slug for t in self.services.directory.themes() if rooms.has_joined(t.room_id, user_id)]
        return await self._lines(session, themes, since, lang)

    async def for_theme(self, session: AsyncSession, theme: str, since: datetime, lang: str) -> list[str]:
        return await self._lines(session, [theme], since, lang)

    async def _lines(self, session: AsyncSession, themes: list[str], since: datetime, lang: str) -> list[str]:
        if not themes:
            return []
        now = self.services.scheduler.now()
        events = await session.scalars(
            select(Event)
            .where(
                Event.status == SCHEDULED,
                Event.theme.in_(themes),
                Event.created_at > since,
                Event.starts_at > now,
            )
            .order_by(Event.starts_at)
            .limit(LIMIT)
        )
        i18n = self.services.i18n
        return [
            i18n.t(
                lang,
                "events.digest.line",
                date=i18n.datetime(lang, aware(e.starts_at) or now, tz=self.zone, width="medium"),
                title=e.title,
                id=e.id,
            )
            for e in events
        ]
