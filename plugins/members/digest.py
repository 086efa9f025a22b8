"""The members plugin's part of the digest and the working document:
new members in the reader's themes (only those who agreed to be listed),
who gets the default digest (everyone with a profile), and active members
per theme for the report (names only of listed members)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.formatting import escape_md
from diabot.insights import ReportRow
from diabot.plugin import Services

from .models import Profile

LIMIT = 10
ACTIVE_DAYS = 90  # "active" in the report: used the bot within this many days


class MembersDigest:
    def __init__(self, services: Services):
        self.services = services

    def register(self) -> None:
        insights = self.services.insights
        insights.register_digest("members", self.for_member)
        insights.register_room_digest("members", self.for_theme)
        insights.register_audience("members", self.audience)
        insights.register_report("members", self.report)

    async def audience(self, session: AsyncSession) -> set[str]:
        return set(await session.scalars(select(Profile.user_id)))

    async def for_member(self, session: AsyncSession, user_id: str, since: datetime, lang: str) -> list[str]:
        own = await session.get(Profile, user_id)
        if own is not None and own.themes:
            themes = set(own.themes)
        else:
            rooms = self.services.rooms
            themes = {t.slug for t in self.services.directory.themes() if rooms.has_joined(t.room_id, user_id)}
        return await self._lines(session, themes, since, lang, exclude=user_id)

    async def for_theme(self, session: AsyncSession, theme: str, since: datetime, lang: str) -> list[str]:
        return await self._lines(session, {theme}, since, lang)

    async def _lines(
        self, session: AsyncSession, themes: set[str], since: datetime, lang: str, exclude: str | None = None
    ) -> list[str]:
        if not themes:
            return []
        new = await session.scalars(
            select(Profile).where(Profile.listed.is_(True), Profile.consent_at > since).order_by(Profile.consent_at)
        )
        names = {t.slug: t.name(lang) for t in self.services.directory.themes()}
        lines: list[str] = []
        for profile in new:
            shared = [s for s in profile.themes or [] if s in themes]
            if profile.user_id == exclude or not shared:
                continue
            name = escape_md(profile.company or profile.user_id)
            lines.append(
                self.services.i18n.t(
                    lang, "members.digest.line", name=name, themes=", ".join(names.get(s, s) for s in shared)
                )
            )
        return lines[:LIMIT]

    async def report(self, session: AsyncSession, theme: str | None) -> list[ReportRow]:
        cutoff = self.services.scheduler.now() - timedelta(days=ACTIVE_DAYS)
        active = await session.scalars(select(Profile).where(Profile.last_active_at >= cutoff))
        counts: Counter[tuple[str, str | None]] = Counter()
        named: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        for profile in active:
            side = profile.side if profile.side in ("nl", "de") else None
            for slug in profile.themes or []:
                if theme is not None and slug != theme:
                    continue
                counts[(slug, side)] += 1
                if profile.listed:
                    named[(slug, side)].append(profile.company or profile.user_id)
        return [
            ReportRow(
                theme=slug,
                resource=None,
                side=side,
                kind="active_member",
                count=n,
                named=tuple(sorted(named[(slug, side)])),
            )
            for (slug, side), n in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        ]
