"""Digest and working document: one message instead of many senders.

`!digest daily|weekly|off` — a member's digest in their private chat, as an
m.text (it must reach the phone), in their language, made of what every
plugin registered with `services.insights` (diabot/insights.py) has new for
them; nothing when nothing is new. Members who never chose get it weekly if
an audience provider names them (the members plugin: everyone with a
profile). `!digest room on|off` — a themed room's weekly digest (m.notice:
it must not ping a whole room). `!report [theme]` (moderators) — the
working document as Markdown, CSV and a PNG chart (report.py, chart.py).

Tables are the truth (models.py): `next_at` per member and room moves on in
the transaction that sends, so a digest goes out once, also after a restart;
after downtime an overdue digest goes out once, then the rhythm continues.
One job per due moment (all members due at 08:00 share it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.commands import Arg, Perm, command
from diabot.context import Context
from diabot.errors import UsageError
from diabot.plugin import Plugin, PluginConfig, Services
from diabot.storage.models import aware

from .chart import render_png
from .compose import digest_markdown
from .models import DAILY, OFF, WEEKLY, DigestRoom, DigestSetting
from .privacy import DigestPrivacy
from .report import Report, report_csv, report_markdown
from .timing import PERIOD, next_due

log = logging.getLogger(__name__)

FREQUENCY_WORDS = {
    "en": ("daily", "weekly", "off"),
    "nl": ("dagelijks", "wekelijks", "uit"),
    "de": ("täglich", "wöchentlich", "aus"),
}
FREQUENCY_OF = {word: (DAILY, WEEKLY, OFF)[i] for words in FREQUENCY_WORDS.values() for i, word in enumerate(words)}
SWITCH_WORDS = {"en": ("on", "off"), "nl": ("aan", "uit"), "de": ("an", "aus")}
SWITCH_OF = {word: i == 0 for words in SWITCH_WORDS.values() for i, word in enumerate(words)}
AUDIENCE_EVERY_S = 3600
SEND_RETRY = timedelta(minutes=5)
# Right after a start nothing is synced yet: who is in which room would read as "nobody" and an overdue
# digest would come out empty. Wait for the community space to be known, but not for ever.
SYNC_WAIT = timedelta(seconds=5)
SYNC_WAIT_MAX = timedelta(minutes=5)


class DigestConfig(PluginConfig):
    # Local time (bot.timezone) at which digests go out; weekday 0 = Monday.
    hour: int = Field(default=8, ge=0, le=23)
    weekday: int = Field(default=0, ge=0, le=6)
    # What members get who never chose (and whom an audience provider names): weekly or off.
    default: str = Field(default=WEEKLY, pattern="^(weekly|off)$")


class DigestPlugin(Plugin[DigestConfig]):
    name = "digest"

    def __init__(self, services: Services, config: DigestConfig):
        super().__init__(services, config)
        self.zone = ZoneInfo(services.settings.bot.timezone)
        self.started_at: datetime | None = None
        gdpr = DigestPrivacy()
        services.privacy.register("digest", gdpr.export, gdpr.erase)

    # ---- schedule --------------------------------------------------------------------------

    def due(self, frequency: str, after: datetime) -> datetime:
        return next_due(frequency, after, self.zone, self.config.hour, self.config.weekday)

    async def start(self) -> None:
        self.started_at = self.services.scheduler.now()
        await self.enrol_audience()
        async with self.services.db.sessions() as session:
            member_times = await session.scalars(
                select(DigestSetting.next_at).where(DigestSetting.frequency != OFF).distinct()
            )
            room_times = await session.scalars(
                select(DigestRoom.next_at).where(DigestRoom.enabled.is_(True)).distinct()
            )
            times = {aware(t) for t in [*member_times, *room_times] if t is not None}
        now = self.services.scheduler.now()
        for when in times:
            assert when is not None
            self._schedule(max(when, now))  # overdue after downtime: once, now
        self.services.scheduler.every("digest.audience", AUDIENCE_EVERY_S, self.enrol_audience)

    def _schedule(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        self.services.scheduler.at(f"digest.due.{when.isoformat()}", when, self.run_due)

    async def enrol_audience(self) -> None:
        """Members an audience provider names and who have no row yet get the default."""
        if self.config.default == OFF:
            return
        now = self.services.scheduler.now()
        async with self.services.db.transaction() as session:
            users = await self.services.insights.audience(session)
            known = set(await session.scalars(select(DigestSetting.user_id)))
            new = sorted(users - known)
            due = self.due(self.config.default, now)
            for user_id in new:
                session.add(
                    DigestSetting(
                        user_id=user_id,
                        frequency=self.config.default,
                        chosen=False,
                        next_at=due,
                        since_at=now,
                        updated_at=now,
                    )
                )
        if new:
            self._schedule(due)

    async def run_due(self) -> None:
        """Every member and room whose digest is due by now; each in its own transaction."""
        now = self.services.scheduler.now()
        if not self._synced(now):
            self._schedule(now + SYNC_WAIT)
            return
        async with self.services.db.sessions() as session:
            users = list(
                await session.scalars(
                    select(DigestSetting.user_id).where(DigestSetting.frequency != OFF, DigestSetting.next_at <= now)
                )
            )
            rooms = list(
                await session.scalars(
                    select(DigestRoom.room_id).where(DigestRoom.enabled.is_(True), DigestRoom.next_at <= now)
                )
            )
        for user_id in users:
            try:
                await self.send_member(user_id, now)
            except Exception:
                log.exception("a digest failed; trying again later", extra={"user": user_id})
                self._schedule(now + SEND_RETRY)
        for room_id in rooms:
            try:
                await self.send_room(room_id, now)
            except Exception:
                log.exception("a room digest failed; trying again later", extra={"room": room_id})
                self._schedule(now + SEND_RETRY)

    def _synced(self, now: datetime) -> bool:
        space = self.services.directory.space_id
        if space is None or self.services.rooms.knows(space):
            return True
        return self.started_at is not None and now - self.started_at > SYNC_WAIT_MAX

    async def send_member(self, user_id: str, now: datetime) -> bool:
        """Compose, then (only if there is something) open the private chat and send;
        the row moves on in the same transaction as the message. True if sent."""
        async with self.services.db.sessions() as session:
            row = await session.get(DigestSetting, user_id)
            if row is None or row.frequency == OFF or (aware(row.next_at) or now) > now:
                return False
            lang = await self.services.languages.for_user(session, user_id)
            markdown = await self.member_markdown(session, user_id, aware(row.since_at) or now, lang, now)
            frequency = row.frequency
        room_id = await self.services.direct.open(user_id) if markdown else None  # outside the transaction
        next_at = self.due(frequency, now)
        async with self.services.work() as uow:
            row = await uow.session.get(DigestSetting, user_id, with_for_update=True)
            if row is None or row.frequency == OFF or (aware(row.next_at) or now) > now:
                return False  # changed meanwhile (or another run took it)
            row.next_at, row.since_at = next_at, now
            if room_id is not None:
                uow.text(room_id, markdown, mentions=[user_id])
                row.last_sent_at = now
        self._schedule(next_at)
        return room_id is not None

    async def member_markdown(
        self, session: AsyncSession, user_id: str, since: datetime, lang: str, now: datetime
    ) -> str:
        sections = await self.services.insights.digest(session, user_id, since, lang)
        i18n = self.services.i18n
        title = i18n.t(lang, "digest.title", date=i18n.date(lang, now, tz=self.zone, width="long"))
        return digest_markdown(i18n, lang, title, sections)

    async def send_room(self, room_id: str, now: datetime) -> bool:
        async with self.services.work() as uow:
            row = await uow.session.get(DigestRoom, room_id, with_for_update=True)
            if row is None or not row.enabled or (aware(row.next_at) or now) > now:
                return False
            lang = await self.services.languages.for_user(uow.session, self.services.bot_user_id, room_id)
            since = aware(row.since_at) or now - PERIOD[WEEKLY]
            sections = await self.services.insights.room_digest(uow.session, row.theme, since, lang)
            i18n = self.services.i18n
            title = i18n.t(lang, "digest.room_title", date=i18n.date(lang, now, tz=self.zone, width="long"))
            markdown = digest_markdown(i18n, lang, title, sections)
            row.next_at, row.since_at = self.due(WEEKLY, now), now
            if markdown:
                uow.notice(room_id, markdown)  # a room digest pings nobody
                row.last_sent_at = now
            next_at = row.next_at
        self._schedule(next_at)
        return bool(markdown)

    # ---- commands ----------------------------------------------------------------------------

    @command(
        "digest",
        nl=("samenvatting",),
        de=("zusammenfassung",),
        help="digest.help",
        args=(Arg("frequency", choices=FREQUENCY_WORDS, optional=True),),
    )
    async def digest(self, ctx: Context, frequency: str | None) -> None:
        chosen = FREQUENCY_OF[frequency.lower()] if frequency else None
        # The private chat exists from the choice on (opened before writing: it may write itself), so the
        # member is in it when the first digest comes, and its push rules apply.
        dm = await self.services.direct.open(ctx.sender) if chosen not in (None, OFF) else None
        row = await ctx.session.get(DigestSetting, ctx.sender)
        if chosen is None:
            current = row.frequency if row is not None else OFF
            next_at = aware(row.next_at) if row is not None and current != OFF else None
            when = self.services.i18n.datetime(ctx.lang, next_at, tz=self.zone) if next_at else "–"
            ctx.reply("digest.status", frequency=ctx.t(f"digest.frequency.{current}"), next=when)
            return
        now = self.services.scheduler.now()
        next_at = self.due(chosen, now) if chosen != OFF else None
        if row is None:
            row = DigestSetting(user_id=ctx.sender, since_at=now)
            ctx.session.add(row)
        row.frequency, row.chosen, row.next_at, row.updated_at = chosen, True, next_at, now
        if next_at is None:
            ctx.reply("digest.off")
            return
        self._schedule(next_at)
        if dm is not None and dm != ctx.room_id:
            ctx.notice(dm, ctx.t("digest.here"))
        ctx.reply(
            "digest.on",
            frequency=ctx.t(f"digest.frequency.{chosen}"),
            next=self.services.i18n.datetime(ctx.lang, next_at, tz=self.zone),
        )

    @command(
        "digest room",
        nl=("samenvatting kamer",),
        de=("zusammenfassung raum",),
        help="digest.room.help",
        perm=Perm.ROOM_MODERATOR,
        args=(Arg("switch", choices=SWITCH_WORDS),),
    )
    async def digest_room(self, ctx: Context, switch: str) -> None:
        theme = self.services.directory.theme_of(ctx.room_id)
        if theme is None:
            raise UsageError("digest.error.not_themed")
        on = SWITCH_OF[switch.lower()]
        now = self.services.scheduler.now()
        row = await ctx.session.get(DigestRoom, ctx.room_id)
        if row is None:
            row = DigestRoom(room_id=ctx.room_id, theme=theme.slug, since_at=now)
            ctx.session.add(row)
        row.enabled, row.theme = on, theme.slug
        row.next_at = self.due(WEEKLY, now) if on else None
        if row.next_at is not None:
            self._schedule(row.next_at)
            when = self.services.i18n.datetime(ctx.lang, row.next_at, tz=self.zone)
            ctx.reply("digest.room.on", next=when)
        else:
            ctx.reply("digest.room.off")

    @command(
        "report",
        nl=("rapport",),
        de=("bericht",),
        help="digest.report.help",
        perm=Perm.MODERATOR,
        args=(Arg("theme", rest=True, optional=True),),
    )
    async def report(self, ctx: Context, theme: str | None) -> None:
        slug: str | None = None
        if theme:
            found = self.services.directory.find(theme)
            if found is None:
                raise UsageError("digest.error.no_theme", theme=theme)
            slug = found.slug
        rows = await self.services.insights.report(ctx.session, slug)
        data = Report.of(rows)
        i18n = self.services.i18n
        now = self.services.scheduler.now()
        scope = slug or i18n.t("en", "digest.report.all")
        stamp = now.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        markdown = report_markdown(i18n, data, scope, stamp)
        labels = {
            f"{k}.{s}": i18n.t(ctx.lang, f"digest.chart.{k}_{s}") for k in ("seek", "offer") for s in ("nl", "de")
        }
        title = i18n.t(ctx.lang, "digest.chart.title", theme=scope)
        png, size = await asyncio.to_thread(render_png, data, title, labels)  # CPU: off the event loop
        name = f"report-{slug or 'all'}-{now.astimezone(self.zone):%Y%m%d}"
        ctx.file(ctx.room_id, f"{name}.md", markdown, "text/markdown")
        ctx.file(ctx.room_id, f"{name}.csv", report_csv(data), "text/csv")
        ctx.file(ctx.room_id, f"{name}.png", png, "image/png", image_size=size)
        ctx.reply("digest.report.done", count=len(data.pairs()))
