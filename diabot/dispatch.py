"""Routes each platform-neutral event to commands and plugin handlers.

One event = one transaction: the handler's writes, what it queued in the
outbox and the `handled_events` row commit together. This is also the one
error boundary: a user error becomes an answer in the user's language, a bug
becomes a logged traceback plus a short apology with a trace id.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from sqlalchemy import delete
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from .commands import Invocation, Perm, Router, Unknown
from .context import Context
from .errors import Forbidden, UsageError, UserError
from .events import Message, RoomEvent, Unusable
from .formatting import code_span
from .metrics import Metrics
from .plugin import Plugin, Services
from .ratelimit import Verdict
from .storage.models import HandledEvent, utcnow

log = logging.getLogger(__name__)
# The database is unreachable: the batch must come again, nothing is skipped.
DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)


class Dispatcher:
    def __init__(self, services: Services, router: Router, metrics: Metrics, ignore_users: list[str]):
        self.services = services
        self.router = router
        self.metrics = metrics
        self.ignore_users = frozenset(ignore_users)
        self.handlers: dict[type, list] = defaultdict(list)

    def add_plugin(self, plugin: Plugin) -> None:
        self.router.add_plugin(plugin.name, plugin)
        for attr in dir(type(plugin)):
            kind = getattr(getattr(type(plugin), attr), "__diabot_event__", None)
            if kind is not None:
                self.handlers[kind].append(getattr(plugin, attr))

    def _wants(self, event: RoomEvent) -> bool:
        if event.sender == self.services.bot_user_id or event.sender in self.ignore_users:
            return False
        if isinstance(event, Message):
            # Notices are never answered automatically (spec); edits are not new commands.
            if event.msgtype == "m.notice" or (event.is_edit and not self.handlers.get(Message)):
                return False
            return self.router.is_command(event.body) or bool(self.handlers.get(Message))
        return any(isinstance(event, kind) for kind in self.handlers)

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
            if await session.get(HandledEvent, event_id) is None:
                session.add(HandledEvent(event_id=event_id, room_id=room_id))

    async def _dispatch(self, event: RoomEvent) -> None:
        if not self._wants(event):
            return
        db = self.services.db
        queued: list = []
        try:
            async with db.transaction() as session:
                if await session.get(HandledEvent, event.event_id) is not None:
                    return
                ctx = await self._context(event, session)
                await self._run(ctx)
                session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
                queued = ctx.queued
        except UserError as exc:
            queued = await self._answer_in_new_transaction(event, lambda ctx, exc=exc: self._user_error(ctx, exc))
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
        lang = await self.services.languages.for_user(session, event.sender, event.room_id)
        return Context(event, session, lang, self.services)

    async def _answer_in_new_transaction(self, event: RoomEvent, answer, commands_only: bool = False) -> list:
        async with self.services.db.transaction() as session:
            if await session.get(HandledEvent, event.event_id) is not None:
                return []
            ctx = await self._context(event, session)
            # A failing passive handler (e.g. on a reaction) must not chat back.
            if not commands_only or (isinstance(event, Message) and self.router.is_command(event.body)):
                answer(ctx)
            session.add(HandledEvent(event_id=event.event_id, room_id=event.room_id))
            return ctx.queued

    def _user_error(self, ctx: Context, exc: UserError) -> None:
        params = dict(exc.params)
        if params.get("arg"):
            params["arg"] = ctx.arg_label(params["arg"])
        text = ctx.t(exc.key, **params)
        spec = getattr(exc, "spec", None)
        if isinstance(exc, UsageError) and spec is not None:
            usage = ctx.usage(spec)
            text = f"{text}\n\n{ctx.t('core.usage', usage=code_span(usage))}"
        ctx.reply_markdown(text)

    async def _run(self, ctx: Context) -> None:
        event = ctx.event
        if isinstance(event, Message) and self.router.is_command(event.body) and not event.is_edit:
            await self._run_command(ctx, event)
            return
        for kind, handlers in self.handlers.items():
            if isinstance(event, kind):
                for handler in handlers:
                    await handler(ctx, event)

    async def _run_command(self, ctx: Context, event: Message) -> None:
        limits = self.services.limits
        verdict = limits.check("commands", event.sender) if limits else Verdict.ALLOW
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
            else:
                ctx.reply("core.error.unknown", name=parsed.name, help=f"{self.router.prefix}help")
            return
        assert isinstance(parsed, Invocation)
        spec = parsed.command.spec
        if not await self.services.permissions.allows(spec.perm, event.room_id, event.sender):
            key = "core.error.members_only" if spec.perm is Perm.MEMBER else "core.error.forbidden"
            raise Forbidden(key, command=f"{self.router.prefix}{parsed.used_name}")
        self.metrics.commands.labels(command=spec.name).inc()
        await parsed.command.handler(ctx, **parsed.kwargs)

    async def prune(self, older_than_s: int) -> int:
        """handled_events only needs to cover the replay window."""
        from datetime import timedelta

        cutoff = utcnow() - timedelta(seconds=older_than_s)
        async with self.services.db.transaction() as session:
            result = await session.execute(delete(HandledEvent).where(HandledEvent.handled_at < cutoff))
            return result.rowcount or 0
