"""Polls: native Matrix polls (MSC3381) that Element and other clients render,
counted the way they count, closed once at their time with the result sent
to the voters' phones.

`!poll "Question?" "A" "B" [max=2] [workgroup] [secret] [closing time]` starts one; members
whose client cannot show polls reply to the announcement with the number(s).
`!poll results|close|export [n]`. This class declares the commands and
handlers; the rules live in request.py (the command line), votes.py (which
responses count), tally.py (counting), closing.py (the close) and export.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import Forbidden, UsageError
from diabot.events import Message, Redaction, RoomEvent
from diabot.plugin import Plugin, PluginConfig, Services
from diabot.storage.models import aware

from . import render
from .closing import Closer
from .digest import PollsDigest
from .export import poll_csv
from .models import Poll
from .privacy import PollPrivacy
from .request import closing_time, read_request
from .shapes import RESPONSE_TYPES, poll_reference, typed_numbers
from .store import START, TEXT, PollStore, is_open
from .tally import answers_of
from .votes import Outcome, Vote, Votes

log = logging.getLogger(__name__)


class PollsConfig(PluginConfig):
    # A poll without a closing time closes after this many days.
    default_days: float = Field(default=7, gt=0, le=365)
    # The role (`roles:` in the config) that the word "workgroup" in !poll stands for.
    workgroup_role: str = "workgroup"
    # Take back (redact) a native vote from someone outside a working-group poll's role,
    # so what Element counts matches the result. Needs the bot to be allowed to redact.
    redact_ineligible: bool = True


def poll_number(text: str) -> int:
    """A poll's number as typed: "7" or "#7"."""
    return int(text.removeprefix("#"))


POLL_ARG = Arg("poll", type=poll_number, optional=True)


class PollsPlugin(Plugin[PollsConfig]):
    name = "polls"

    def __init__(self, services: Services, config: PollsConfig):
        super().__init__(services, config)
        self.zone = ZoneInfo(services.settings.bot.timezone)
        self.store = PollStore(services.db, services.outbox)
        self.votes = Votes(services, self.store)
        self.closer = Closer(services, self.store, self.votes)
        gdpr = PollPrivacy()
        services.privacy.register("polls", gdpr.export, gdpr.erase)
        PollsDigest(services).register()  # poll results in the digest (plugins/digest)

    async def start(self) -> None:
        # The table is the truth: every open poll gets its close job, an overdue one at once
        # (however late: a poll must end; responses after its closing time do not count anyway).
        async with self.services.db.sessions() as session:
            polls = await self.store.open_polls(session)
        now = self.services.scheduler.now()
        for poll in polls:
            closes_at = aware(poll.closes_at)
            assert closes_at is not None
            self._schedule_close(poll.id, max(closes_at, now))

    def _schedule_close(self, poll_id: int, when: datetime) -> None:
        self.services.scheduler.at(f"polls.close.{poll_id}", when, self._close_job, poll_id)

    async def _close_job(self, poll_id: int) -> None:
        try:
            async with self.services.work() as uow:
                await self.closer.close(uow, poll_id, early=False)
        except Exception:
            # The database or homeserver failed: try again in a minute (the close claims the poll, once).
            log.exception("closing a poll failed; trying again", extra={"poll": poll_id})
            self._schedule_close(poll_id, self.services.scheduler.now() + timedelta(minutes=1))

    # ---- commands ----------------------------------------------------------------------------

    @command(
        "poll",
        nl=("peiling",),
        de=("umfrage",),
        help="polls.poll.help",
        args=(Arg("question", rest=True, optional=True),),
    )
    async def poll(self, ctx: Context, question: str | None) -> None:
        if not question:
            ctx.reply("polls.usage", days=self.services.i18n.number(ctx.lang, self.config.default_days))
            return
        request = read_request(question)
        role = self.config.workgroup_role if request.workgroup else None
        if role is not None and not await self.services.permissions.has_role(role, ctx.sender):
            raise Forbidden("polls.error.workgroup_only")
        now = self.services.scheduler.now()
        default = timedelta(days=self.config.default_days)
        # In UTC: SQLite keeps a datetime's wall time and drops its zone (read back as UTC).
        closes_at = (await closing_time(request.closing, self.zone, now, default)).astimezone(UTC)
        poll = Poll(
            room_id=ctx.room_id,
            creator=ctx.sender,
            question=request.question,
            answers=request.answers,
            max_selections=request.max_selections,
            disclosed=request.disclosed,
            role=role,
            lang=ctx.lang,
            created_at=now,
            closes_at=closes_at,
        )
        ctx.session.add(poll)
        await ctx.session.flush()  # the poll's number, for the texts and the job
        start = ctx.poll(
            ctx.room_id,
            request.question,
            request.answers,
            max_selections=request.max_selections,
            disclosed=request.disclosed,
        )
        ctx.ledger.record(start, START, subject=str(poll.id))
        text = ctx.notice(ctx.room_id, render.announcement(ctx, poll, self.zone))
        ctx.ledger.record(text, TEXT, subject=str(poll.id))
        self._schedule_close(poll.id, closes_at)

    @command(
        "poll results",
        nl=("peiling uitslag", "peiling resultaten"),
        de=("umfrage ergebnis", "umfrage ergebnisse"),
        help="polls.results.help",
        args=(POLL_ARG,),
    )
    async def results(self, ctx: Context, poll: int | None) -> None:
        found = await self._find(ctx, poll)
        await self._may_see(ctx, found)
        if not is_open(found):
            assert found.result is not None
            ctx.reply_markdown(render.result(ctx, found, found.result, final=True))
            return
        await self.votes.rebuild(ctx.session, found)
        outcome = await self.store.tally(ctx.session, found)
        if not found.disclosed:
            closes = render.closes(ctx, found, self.zone)
            ctx.reply("polls.results.secret", id=found.id, count=len(outcome.choices), closes=closes)
            return
        ctx.reply_markdown(render.result(ctx, found, outcome, final=False))

    @command(
        "poll close",
        nl=("peiling sluiten",),
        de=("umfrage beenden", "umfrage schließen"),
        help="polls.close.help",
        args=(POLL_ARG,),
    )
    async def close(self, ctx: Context, poll: int | None) -> None:
        found = await self._find(ctx, poll, open_only=True)
        if not is_open(found):
            ctx.reply("polls.close.already", id=found.id)
            return
        permissions = self.services.permissions
        allowed = found.creator == ctx.sender or await permissions.allows(
            Perm.ROOM_MODERATOR, found.room_id, ctx.sender
        )
        if not allowed:
            raise Forbidden("polls.error.close_forbidden", id=found.id)
        if await self.closer.close(ctx, found.id, early=True) is None:
            ctx.reply("polls.close.already", id=found.id)
        elif ctx.room_id != found.room_id:
            ctx.reply("polls.close.done", id=found.id)

    @command(
        "poll export",
        nl=("peiling exporteren", "peiling export"),
        de=("umfrage exportieren", "umfrage export"),
        help="polls.export.help",
        args=(POLL_ARG,),
    )
    async def export(self, ctx: Context, poll: int | None) -> None:
        found = await self._find(ctx, poll)
        permissions = self.services.permissions
        if found.creator != ctx.sender and not await permissions.has_role(self.config.workgroup_role, ctx.sender):
            raise Forbidden("polls.error.export_forbidden")
        await self._may_see(ctx, found)
        if is_open(found):
            if not found.disclosed:
                raise UsageError("polls.error.export_secret", id=found.id)
            await self.votes.rebuild(ctx.session, found)
        outcome = await self.store.tally(ctx.session, found)
        counts = outcome.counts if is_open(found) or found.result is None else found.result.get("counts", {})
        rooms = self.services.rooms
        text = poll_csv(found, outcome, counts, lambda user: rooms.display_name(found.room_id, user))
        ctx.file(ctx.room_id, f"poll-{found.id}.csv", text, "text/csv")

    # ---- votes -------------------------------------------------------------------------------

    @on(*RESPONSE_TYPES)
    async def responded(self, ctx: Context, event: RoomEvent) -> None:
        target = poll_reference(event)
        poll = await self.store.by_event(ctx.session, target, start_only=True) if target else None
        if poll is None:
            return  # not one of ours
        vote = Vote(event.event_id, event.room_id, event.sender, answers_of(event.content), event.ts, "poll")
        outcome = await self.votes.record(ctx.session, poll, vote)
        if outcome is Outcome.NOT_A_VOTER and self.config.redact_ineligible:
            ctx.redact(event.room_id, event.event_id, reason=ctx.t("polls.vote.not_a_voter_reason"))

    @on(Message)
    async def replied(self, ctx: Context, msg: Message) -> None:
        """A reply (or thread message) to a poll or its announcement that is only numbers is a vote."""
        target = msg.reply_to or msg.thread_root
        if target is None or msg.is_edit:
            return
        numbers = typed_numbers(msg.body)
        if numbers is None:
            return
        poll = await self.store.by_event(ctx.session, target)
        if poll is None:
            return
        chosen = list(dict.fromkeys(numbers))
        if not all(1 <= n <= len(poll.answers) for n in chosen) or len(chosen) > poll.max_selections:
            if poll.max_selections > 1:
                ctx.reply("polls.vote.bad_numbers", count=poll.max_selections, answers=len(poll.answers))
            else:
                ctx.reply("polls.vote.bad_number", answers=len(poll.answers))
            return
        vote = Vote(msg.event_id, msg.room_id, msg.sender, [str(n) for n in chosen], msg.ts, "reply")
        outcome = await self.votes.record(ctx.session, poll, vote)
        if outcome is Outcome.COUNTED:
            ctx.react(msg.room_id, msg.event_id, "✅")
        elif outcome is Outcome.LATE:
            ctx.reply("polls.vote.closed", id=poll.id)
        elif outcome is Outcome.NOT_A_VOTER:
            ctx.reply("polls.vote.not_a_voter", id=poll.id)

    @on(Redaction)
    async def redacted(self, ctx: Context, event: Redaction) -> None:
        """A withdrawn response no longer counts (Element leaves redacted responses out too)."""
        await self.store.forget_response(ctx.session, event.redacts, event.room_id)

    # ---- helpers -----------------------------------------------------------------------------

    async def _find(self, ctx: Context, number: int | None, *, open_only: bool = False) -> Poll:
        if number is not None:
            found = await self.store.by_id(ctx.session, number)
        else:
            found = await self.store.latest_in(ctx.session, ctx.room_id, open_only=open_only)
        if found is None:
            key = "polls.error.no_such" if number is not None else "polls.error.none_here"
            raise UsageError(key, id=number or 0)
        return found

    async def _may_see(self, ctx: Context, poll: Poll) -> None:
        """A poll's votes are shown in its own room, or in a member's private chat with the bot."""
        if ctx.room_id == poll.room_id:
            return
        services = self.services
        entitled = services.rooms.has_joined(poll.room_id, ctx.sender) or (
            await services.permissions.is_community_moderator(ctx.sender)
        )
        if entitled and await services.privacy.is_private_chat(ctx.session, ctx.sender, ctx.room_id):
            return
        raise UsageError("polls.error.ask_in_room", id=poll.id)
