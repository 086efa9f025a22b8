"""Events: `!event` from one line or a short DM dialogue, the announcement
in the theme's room, answers by reaction or `!rsvp`, a waitlist, reminders,
public-holiday warnings, `.ics` files and members' calendar feeds.

This class declares commands, handlers, jobs and routes; the work is done in
lifecycle.py (create, edit, cancel), announcements.py, rsvp.py,
reminders.py, dialogue.py, feeds.py/ics.py and gdpr.py.
"""

from __future__ import annotations

import re

from aiohttp import web
from sqlalchemy import select

from diabot.commands import Arg, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Message, Reaction, Redaction
from diabot.formatting import Markdown, escape_md
from diabot.plugin import Plugin, Services
from diabot.routes import route
from diabot.storage.models import aware

from .announcements import Announcer
from .config import EventsConfig
from .dialogue import CreationDialogue
from .digest import EventsDigest
from .feeds import Feeds
from .gdpr import EventPrivacy
from .lifecycle import FIELD_BY_WORD, FIELD_CHOICES, EventDesk, parse_event_id
from .models import SCHEDULED, Event, Rsvp
from .reminders import Reminders
from .rendering import details, list_line
from .rsvp import CHOICES, KEY_ANSWERS, SYNONYMS, answer_of, language_of

LIST_LIMIT = 20
ATTENDEES_PURPOSE = "events.attendees"
_ID = re.compile(r"#?\d+")


class EventsPlugin(Plugin[EventsConfig]):
    name = "events"

    def __init__(self, services: Services, config: EventsConfig):
        super().__init__(services, config)
        self.announcer = Announcer(services, config)
        self.reminders = Reminders(services, config, self.announcer)
        self.desk = EventDesk(services, config, self.announcer, self.reminders)
        self.rsvps = self.desk.rsvps
        self.dialogue = CreationDialogue(services, config, self.desk)
        self.feeds = Feeds(services, config)
        privacy = EventPrivacy(self._rebalance_later)
        services.privacy.register("events", privacy.export, privacy.erase)
        EventsDigest(services).register()  # new events in the digest (plugins/digest)

    async def start(self) -> None:
        """The tables are the truth: rebuild every job they imply."""
        await self.reminders.rebuild()
        now = self.services.scheduler.now()
        async with self.services.db.sessions() as session:
            open_events = Event.status == SCHEDULED, Event.ends_at > now
            dirty = (await session.scalars(select(Event.id).where(*open_events, Event.counts_dirty))).all()
            unseeded = (
                await session.scalars(select(Event.id).where(*open_events, Event.announcement_event_id.is_(None)))
            ).all()
            waiting = (await session.scalars(select(Rsvp.event_id).where(Rsvp.waitlisted).distinct())).all()
        for event_id in dirty:
            self.announcer.schedule_flush(event_id, now)
        for event_id in unseeded:
            self.announcer.schedule_seed(event_id)
        self._rebalance_later(list(waiting))
        self.services.scheduler.every("events.dialogue_sweep", 300, self.dialogue.sweep)

    # ---- creating and showing --------------------------------------------------------------

    @command(
        "event",
        nl=("evenement", "bijeenkomst"),
        de=("veranstaltung", "termin"),
        help="events.event.help",
        args=(Arg("text", rest=True, optional=True),),
    )
    async def event(self, ctx: Context, text: str | None) -> None:
        if text is None:
            await self.dialogue.start(ctx)
        elif _ID.fullmatch(text.strip()):
            await self.show(ctx, parse_event_id(text.strip()))
        else:
            await self.desk.create(ctx, await self.desk.read_line(text), origin_room=ctx.room_id)

    async def show(self, ctx: Context, event_id: int) -> None:
        event = await self.desk.get(ctx, event_id)
        theme = self.services.directory.by_slug(event.theme)
        counts = await self.announcer.counts(ctx.session, event.id)
        lines = [details(self.services.i18n, ctx.lang, event, counts, theme.name(ctx.lang) if theme else event.theme)]
        coming = await self.rsvps.seated(ctx, event.id)
        # Names only of members who agreed to be seen, and never where strangers read along.
        named = [] if self.services.rooms.is_public(ctx.room_id) else coming
        listed = await self.services.privacy.listed(ctx.session, named) if named else set()
        names = [escape_md(self.services.rooms.display_name(event.room_id, u)) for u in coming if u in listed]
        if names:
            others = len(coming) - len(names)
            key = "events.show.coming" if others else "events.show.coming_all"
            lines.append(ctx.t(key, names=Markdown(", ".join(names)), count=others))
        elif coming:
            lines.append(ctx.t("events.show.coming_count", count=len(coming)))
        mine = await ctx.session.scalar(select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.user_id == ctx.sender))
        if mine is not None:
            lines.append(ctx.t(f"events.show.yours.{'waiting' if mine.waitlisted else mine.answer}"))
        shown = ctx.reply_markdown("\n\n".join(lines))
        for user in listed:
            ctx.ledger.record(shown, ATTENDEES_PURPOSE, subject=str(event.id), user_id=user)

    @command(
        "events",
        nl=("evenementen", "bijeenkomsten"),
        de=("veranstaltungen", "termine"),
        help="events.events.help",
        args=(Arg("theme", rest=True, optional=True),),
    )
    async def events(self, ctx: Context, theme: str | None) -> None:
        directory = self.services.directory
        query = select(Event).where(Event.status == SCHEDULED, Event.ends_at > self.services.scheduler.now())
        title = ctx.t("events.list.title")
        if theme:
            found = directory.find(theme)
            if found is None:
                slugs = ", ".join(t.slug for t in directory.themes())
                raise UsageError("events.error.no_theme", theme=theme, themes=slugs)
            query = query.where(Event.theme == found.slug)
            title = ctx.t("events.list.title_theme", theme=found.name(ctx.lang))
        rows = (await ctx.session.scalars(query.order_by(Event.starts_at).limit(LIST_LIMIT + 1))).all()
        if not rows:
            ctx.reply("events.list.none")
            return
        lines = [f"**{title}**", ""]
        for event in rows[:LIST_LIMIT]:
            found_theme = directory.by_slug(event.theme)
            name = found_theme.name(ctx.lang) if found_theme else event.theme
            counts = await self.announcer.counts(ctx.session, event.id)
            lines.append("- " + list_line(self.services.i18n, ctx.lang, event, counts, name))
        if len(rows) > LIST_LIMIT:
            lines.append(ctx.t("events.list.more", count=LIST_LIMIT))
        lines.append("")
        lines.append(ctx.t("events.list.hint"))
        ctx.reply_markdown("\n".join(lines))

    # ---- changing ---------------------------------------------------------------------------

    @command(
        "event edit",
        nl=("evenement wijzig", "bijeenkomst wijzig"),
        de=("veranstaltung ändern", "termin ändern"),
        help="events.edit.help",
        args=(
            Arg("event", type=parse_event_id),
            Arg("field", choices=FIELD_CHOICES, synonyms=tuple(FIELD_BY_WORD)),
            Arg("value", rest=True),
        ),
    )
    async def edit(self, ctx: Context, event: int, field: str, value: str) -> None:
        await self.desk.edit(ctx, event, FIELD_BY_WORD[field], value)

    @command(
        "event cancel",
        nl=("evenement annuleer", "bijeenkomst annuleer"),
        de=("veranstaltung absagen", "termin absagen"),
        help="events.cancel.help",
        args=(Arg("event", type=parse_event_id),),
    )
    async def cancel(self, ctx: Context, event: int) -> None:
        await self.desk.cancel(ctx, event)

    # ---- answering -------------------------------------------------------------------------------

    @command(
        "rsvp",
        help="events.rsvp.help",
        args=(Arg("event", type=parse_event_id), Arg("rsvp", choices=CHOICES, synonyms=SYNONYMS)),
    )
    async def rsvp(self, ctx: Context, event: int, rsvp: str) -> None:
        # `!rsvp` is every language's word: the answer word tells a member who chose none ("nein": German).
        ctx.lang = await self.services.languages.for_user(ctx.session, ctx.sender, ctx.room_id, language_of(rsvp))
        found = await self.desk.get(ctx, event)
        self._check_open(found)
        outcome = await self.rsvps.answer(ctx, found, ctx.sender, answer_of(rsvp))
        if outcome.waitlisted:
            ctx.reply("events.rsvp.waiting", title=found.title, id=found.id, position=outcome.position)
        else:
            ctx.reply(f"events.rsvp.{outcome.answer}", title=found.title, id=found.id)

    def _check_open(self, event: Event) -> None:
        if event.status != SCHEDULED:
            raise UsageError("events.error.cancelled", id=event.id)
        if aware(event.ends_at) <= self.services.scheduler.now():  # type: ignore[operator]
            raise UsageError("events.error.over", id=event.id)

    @on(Reaction, key="✅")
    async def reacted_yes(self, ctx: Context, reaction: Reaction) -> None:
        await self._reacted(ctx, reaction)

    @on(Reaction, key="❓")
    async def reacted_maybe(self, ctx: Context, reaction: Reaction) -> None:
        await self._reacted(ctx, reaction)

    @on(Reaction, key="❌")
    async def reacted_no(self, ctx: Context, reaction: Reaction) -> None:
        await self._reacted(ctx, reaction)

    async def _reacted(self, ctx: Context, reaction: Reaction) -> None:
        event = await self.announcer.event_for(ctx.session, ctx, reaction.room_id, reaction.target)
        if event is None or not await self.services.permissions.is_member(ctx.sender):
            return
        try:
            self._check_open(event)
        except UsageError:
            return  # a late tap on an old announcement: nothing to answer to
        answer = KEY_ANSWERS[reaction.key.replace("\ufe0f", "")]
        await self.rsvps.answer(
            ctx, event, ctx.sender, answer, reaction_event_id=reaction.event_id, tell_waitlisted=True
        )

    @on(Redaction)
    async def took_back(self, ctx: Context, redaction: Redaction) -> None:
        """Taking the reaction back takes the answer back."""
        row = await ctx.session.scalar(select(Rsvp).where(Rsvp.reaction_event_id == redaction.redacts))
        if row is None or row.user_id != ctx.sender:
            return
        event = await ctx.session.get(Event, row.event_id)
        if event is not None and event.status == SCHEDULED:
            await self.rsvps.answer(ctx, event, ctx.sender, None)

    @on(Message)
    async def on_message(self, ctx: Context, message: Message) -> None:
        if not message.is_edit:
            await self.dialogue.answered(ctx, message.body)

    # ---- calendars -------------------------------------------------------------------------------

    @command(
        "event ics",
        nl=("evenement ics", "bijeenkomst ics"),
        de=("veranstaltung ics", "termin ics"),
        help="events.ics.help",
        args=(Arg("event", type=parse_event_id),),
    )
    async def ics(self, ctx: Context, event: int) -> None:
        found = await self.desk.get(ctx, event)
        body = self.feeds.one(found, ctx.lang)
        ctx.file(ctx.room_id, f"event-{found.id}.ics", body.decode("utf-8"), "text/calendar")

    @command("calendar", nl=("agenda", "kalender"), de=("kalender",), help="events.calendar.help")
    async def calendar(self, ctx: Context) -> None:
        await self._send_feed(ctx, renew=False)

    @command(
        "calendar reset",
        nl=("agenda reset", "kalender reset"),
        de=("kalender zurücksetzen", "kalender reset"),
        help="events.calendar_reset.help",
    )
    async def calendar_reset(self, ctx: Context) -> None:
        await self._send_feed(ctx, renew=True)

    async def _send_feed(self, ctx: Context, renew: bool) -> None:
        """The address is a secret: it goes to the member's DM only."""
        dm = await self.services.direct.open(ctx.sender)  # before writing (it may write itself)
        token = await self.feeds.token_of(ctx.session, ctx.sender, renew=renew)
        themes = "\n".join(
            f"- {escape_md(t.name(ctx.lang))}: {self.feeds.url(token, t.slug)}"
            for t in self.services.directory.themes()
        )
        key = "events.calendar.renewed" if renew else "events.calendar.dm"
        ctx.notice(dm, ctx.t(key, url=self.feeds.url(token), themes=Markdown(themes)))
        if ctx.room_id != dm:
            ctx.reply("events.calendar.sent")

    @route("GET", "/feed/{token}.ics")
    async def feed_all(self, request: web.Request) -> web.Response:
        return await self._serve(request, None)

    @route("GET", "/feed/{token}/{theme}.ics")
    async def feed_theme(self, request: web.Request) -> web.Response:
        return await self._serve(request, request.match_info["theme"])

    async def _serve(self, request: web.Request, theme: str | None) -> web.Response:
        user = await self.feeds.user_of(request.match_info["token"])
        if user is None or not await self.services.permissions.is_member(user):
            raise web.HTTPNotFound()
        if theme is not None and self.services.directory.by_slug(theme) is None:
            raise web.HTTPNotFound()
        async with self.services.db.sessions() as session:
            lang = await self.services.languages.for_user(session, user)
        feed = await self.feeds.feed(theme, lang)
        headers = {"ETag": feed.etag, "Cache-Control": "private, max-age=300"}
        if request.headers.get("If-None-Match") == feed.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=feed.body, content_type="text/calendar", charset="utf-8", headers=headers)

    # ---- jobs ----------------------------------------------------------------------------------------

    def _rebalance_later(self, event_ids: list[int]) -> None:
        scheduler = self.services.scheduler
        for event_id in event_ids:
            scheduler.at(f"events.rebalance.{event_id}", scheduler.now(), self._rebalance, event_id)

    async def _rebalance(self, event_id: int) -> None:
        """Job: seats freed outside an answer (an erasure): move the waitlist up, update the counts."""
        async with self.services.work() as uow:
            event = await uow.session.get(Event, event_id)
            if event is None or event.status != SCHEDULED:
                return
            await self.rsvps.rebalance(uow, event)
            if event.counts_dirty:
                await self.announcer.refresh(uow, event)
