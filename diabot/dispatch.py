"""Routes each platform-neutral event to commands and plugin handlers.

One event = one transaction: the handler's writes, what it queued in the
outbox and the `handled_events` row commit together. An event no handler
wants writes nothing. This is also the one error boundary: a user error
becomes an answer in the user's language, a bug becomes a logged traceback
plus a short apology with a trace id, and a transient failure of the
homeserver (TransientError, a timeout) in a passive handler keeps the event
in `deferred_events` to be handled again later, with back-off.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import delete, func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from .commands import ChoiceList, Handler, HandlerSpec, Invocation, Perm, Router, Unknown, handler_spec
from .context import Context
from .errors import Forbidden, TransientError, UsageError, UserError
from .events import Message, RoomEvent, Unusable, event_from_dict
from .formatting import Markdown
from .metrics import Metrics
from .plugin import Plugin, Services
from .ratelimit import Verdict
from .storage.models import DeferredEvent, HandledEvent, OutboxMessage, utcnow

log = logging.getLogger(__name__)
# The database is unreachable: the batch must come again, nothing is skipped.
DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)
# The homeserver failed for now: try the event again later.
TRANSIENT = (TransientError, TimeoutError, aiohttp.ClientConnectionError)
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


class Dispatcher:
    def __init__(
        self,
        services: Services,
        router: Router,
        metrics: Metrics,
        ignore_users: list[str],
        timezone: str = "Europe/Amsterdam",
        clock: Callable[[], datetime] = utcnow,
    ):
        self.services = services
        self.router = router
        self.metrics = metrics
        self.ignore_users = frozenset(ignore_users)
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.handlers: list[tuple[HandlerSpec, Handler]] = []

    def add_plugin(self, plugin: Plugin[Any]) -> None:
        self.router.add_plugin(plugin.name, plugin)
        for attr in dir(type(plugin)):
            spec = handler_spec(getattr(type(plugin), attr))
            if spec is not None:
                self.handlers.append((spec, getattr(plugin, attr)))

    def handlers_for(self, event: RoomEvent) -> list[Handler]:
        return [handler for spec, handler in self.handlers if spec.wants(event)]

    def _is_command(self, event: RoomEvent) -> bool:
        return isinstance(event, Message) and not event.is_edit and self.router.is_command(event.body)

    def _wants(self, event: RoomEvent) -> bool:
        if event.sender == self.services.bot_user_id or event.sender in self.ignore_users:
            return False
        # Notices are never answered automatically (spec); edits are not new commands.
        if isinstance(event, Message) and event.msgtype == "m.notice":
            return False
        return self._is_command(event) or bool(self.handlers_for(event))

    async def dispatch(self, event: RoomEvent | Unusable) -> None:
        """Raises only if the database is unreachable: then the caller must not
        advance the sync token, and the event comes again. Anything else that
        goes wrong with one event is logged, counted and the event skipped:
        one poison event must not hold up every room."""
        if isinstance(event, Unusable):
            await self._skip(event.event_id, event.room_id, event.reason)
            return
        try:
            await self._dispatch(event)
        except DATABASE_DOWN:
            raise
        except Exception:
            log.exception(
                "an event could not be handled; skipped", extra={"event_id": event.event_id, "room_id": event.room_id}
            )
            await self._skip(event.event_id, event.room_id, "handling failed after the error boundary")

    async def _skip(self, event_id: str, room_id: str, reason: str) -> None:
        self.metrics.unusable_events.inc()
        log.warning("skipped an unusable event", extra={"event_id": event_id, "room_id": room_id, "reason": reason})
        if not event_id:
            return
        async with self.services.db.transaction() as session:
            await self._claim(session, event_id, room_id)

    async def _claim(self, session: AsyncSession, event_id: str, room_id: str) -> bool:
        """Record the event as handled unless it is: False if it already was."""
        values = {"event_id": event_id, "room_id": room_id, "handled_at": utcnow()}
        return await self.services.db.claim(session, HandledEvent, ["event_id"], values)

    async def _dispatch(self, event: RoomEvent) -> None:
        if not self._wants(event):
            return
        db = self.services.db
        queued: list[OutboxMessage] = []
        try:
            async with db.transaction() as session:
                # A read first, the handled row last: claiming the event up front
                # would take SQLite's write lock for the whole handler, and a
                # handler that opens a room (its own transaction) would wait on it.
                if await session.get(HandledEvent, event.event_id) is not None:
                    return
                ctx = await self._context(event, session)
                await self._run(ctx)
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
                queued = ctx.queued
        except UserError as exc:
            queued = await self._answer_in_new_transaction(event, partial(self._user_error, exc=exc))
        except TRANSIENT as exc:
            if not self._is_command(event):
                await self._defer(event, exc)
                return
            log.warning(
                "a command failed for now", extra={"event_id": event.event_id, "error": f"{type(exc).__name__}: {exc}"}
            )
            queued = await self._answer_in_new_transaction(event, lambda ctx: ctx.reply("core.error.busy"))
        except Exception:
            trace_id = uuid.uuid4().hex[:8]
            self.metrics.errors.inc()
            log.exception(
                "handler failed", extra={"trace_id": trace_id, "event_id": event.event_id, "room_id": event.room_id}
            )
            queued = await self._answer_in_new_transaction(
                event, lambda ctx: ctx.reply("core.error.internal", trace_id=trace_id), commands_only=True
            )
        self.metrics.events_handled.inc()
        if queued:
            self.services.outbox.notify(queued)

    async def _context(self, event: RoomEvent, session: AsyncSession) -> Context:
        hint = self.services.router.language_of(event.body) if isinstance(event, Message) else None
        lang = await self.services.languages.for_user(session, event.sender, event.room_id, hint)
        return Context(event, session, lang, self.services)

    async def _answer_in_new_transaction(
        self, event: RoomEvent, answer: Callable[[Context], object], commands_only: bool = False
    ) -> list[OutboxMessage]:
        async with self.services.db.transaction() as session:
            if not await self._claim(session, event.event_id, event.room_id):
                return []
            ctx = await self._context(event, session)
            # A failing passive handler (e.g. on a reaction) must not chat back.
            if not commands_only or self._is_command(event):
                answer(ctx)
            return ctx.queued

    def _user_error(self, ctx: Context, exc: UserError) -> None:
        params = {name: self._readable(ctx, value) for name, value in exc.params.items()}
        if params.get("arg"):
            params["arg"] = ctx.arg_label(params["arg"])
        text = ctx.t(exc.key, **params)
        spec = getattr(exc, "spec", None)
        if isinstance(exc, UsageError) and spec is not None:
            text = f"{text}\n\n{ctx.t('core.usage', usage=Markdown(ctx.usage_markdown(spec)))}"
        ctx.reply_markdown(text)

    def _readable(self, ctx: Context, value: Any) -> Any:
        """Dates in an error (what a date argument was understood as) in the user's language."""
        if isinstance(value, datetime):
            return self.services.i18n.datetime(ctx.lang, value, tz=self.zone)
        if isinstance(value, date):
            return self.services.i18n.date(ctx.lang, value)
        if isinstance(value, ChoiceList):
            return value.words(ctx.lang)
        return value

    async def _run(self, ctx: Context) -> None:
        event = ctx.event
        if isinstance(event, Message) and self._is_command(event):
            await self._run_command(ctx, event)
            return
        for handler in self.handlers_for(event):
            await handler(ctx, event)

    async def _run_command(self, ctx: Context, event: Message) -> None:
        verdict = self.services.limits.check("commands", event.sender)
        if verdict == Verdict.WARN:
            ctx.reply("core.error.slow_down")  # once; further commands in the window are dropped silently
        if verdict != Verdict.ALLOW:
            self.metrics.rate_limited.inc()
            return
        parsed = self.router.parse(event.body)
        if isinstance(parsed, Unknown):
            if parsed.suggestion:
                ctx.reply(
                    "core.error.unknown_suggest",
                    name=parsed.name,
                    suggestion=f"{self.router.prefix}{parsed.suggestion}",
                )
            elif self.services.rooms.member_count(event.room_id) <= 2:
                # Only in a chat with the bot alone: in a shared room another bot may own this command.
                ctx.reply("core.error.unknown", name=parsed.name, help=f"{self.router.prefix}help")
            return
        assert isinstance(parsed, Invocation)
        spec = parsed.command.spec
        if not await self.services.permissions.allows(spec.perm, event.room_id, event.sender):
            key = "core.error.members_only" if spec.perm is Perm.MEMBER else "core.error.forbidden"
            raise Forbidden(key, command=f"{self.router.prefix}{parsed.used_name}")
        # Dates and other slow arguments are parsed off the event loop, and only for those allowed.
        parsed = await self.router.complete(parsed, self.zone, self.clock())
        self.metrics.commands.labels(command=spec.name).inc()
        await parsed.command.handler(ctx, **parsed.kwargs)

    async def _defer(self, event: RoomEvent, exc: BaseException) -> None:
        """Keep the event for a later try instead of marking it handled; give up after a day."""
        now = self.clock()
        async with self.services.db.transaction() as session:
            row = await session.get(DeferredEvent, event.event_id)
            if row is None:
                row = DeferredEvent(
                    event_id=event.event_id, room_id=event.room_id, payload=event.to_dict(), attempts=0, created_at=now
                )
                session.add(row)
            row.attempts += 1
            row.error = f"{type(exc).__name__}: {exc}"[:500]
            given_up = now - _aware(row.created_at) >= GIVE_UP_AFTER
            if given_up:
                await session.delete(row)
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            else:
                row.next_at = now + min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MAX)
            extra = {"event_id": event.event_id, "room_id": event.room_id, "attempts": row.attempts, "error": row.error}
            next_at = row.next_at
        if given_up:
            self.metrics.deferred_given_up.inc()
            log.error("gave up on an event after a day of transient failures", extra=extra)
        else:
            log.warning("a handler failed for now; the event is tried again later", extra={**extra, "at": next_at})
        await self._count_deferred()

    async def run_deferred(self, limit: int = 100) -> int:
        """The periodic job: hand due deferred events to their handlers again."""
        async with self.services.db.sessions() as session:
            due = (
                await session.execute(
                    select(DeferredEvent.event_id, DeferredEvent.room_id, DeferredEvent.payload)
                    .where(DeferredEvent.next_at <= self.clock())
                    .order_by(DeferredEvent.next_at)
                    .limit(limit)
                )
            ).all()
        for event_id, room_id, payload in due:
            try:
                event = event_from_dict(payload)
            except (KeyError, TypeError):
                await self._skip(event_id, room_id, "deferred event cannot be rebuilt")
                wanted = False
            else:
                wanted = self._wants(event)  # not if its plugin was disabled meanwhile
                if wanted:
                    await self.dispatch(event)  # handled, or deferred again with a later next_at
            async with self.services.db.transaction() as session:
                if not wanted or await session.get(HandledEvent, event_id) is not None:
                    await session.execute(delete(DeferredEvent).where(DeferredEvent.event_id == event_id))
        await self._count_deferred()
        return len(due)

    async def _count_deferred(self) -> None:
        async with self.services.db.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(DeferredEvent))
        self.metrics.deferred_events.set(count or 0)

    async def prune(self, older_than_s: int) -> int:
        """handled_events only needs to cover the replay window."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        async with self.services.db.transaction() as session:
            result = await session.execute(delete(HandledEvent).where(HandledEvent.handled_at < cutoff))
            return result.rowcount or 0  # type: ignore[attr-defined]


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
