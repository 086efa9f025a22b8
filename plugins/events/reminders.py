"""Reminders before an event, at the configured offsets: an m.text in the
announcement's thread that pings those who said yes, and an m.text in each
one's DM. The rows are the truth: a job marks its reminder sent in the same
transaction that queues the messages (never twice); at start the jobs are
rebuilt, and one that fell due while the bot was down still goes out within
the scheduler's grace period, older ones are dropped with a log line.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.errors import TransientError
from diabot.storage.models import aware

from .models import SCHEDULED, Event, Reminder
from .rendering import before_text, event_span
from .rsvp import RsvpBook
from .sessions import after_commit, speaking_to

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .announcements import Announcer
    from .config import EventsConfig

log = logging.getLogger(__name__)
RETRY = timedelta(minutes=1)
PURPOSE = "events.reminder"


def job_id(reminder_id: int) -> str:
    return f"events.reminder.{reminder_id}"


class Reminders:
    def __init__(self, services: Services, config: EventsConfig, announcer: Announcer):
        self.services = services
        self.offsets = config.reminder_offsets()
        self.announcer = announcer

    def now(self) -> datetime:
        return self.services.scheduler.now()

    async def plan(self, session: AsyncSession, event: Event) -> None:
        """Rows for the offsets still ahead (none for a reminder whose moment has passed),
        scheduled once committed."""
        start = aware(event.starts_at)
        assert start is not None
        rows = [
            Reminder(event_id=event.id, offset_s=int(offset.total_seconds()), due_at=start - offset)
            for offset in self.offsets
            if start - offset > self.now()
        ]
        session.add_all(rows)
        await session.flush()
        planned = [(row.id, start - timedelta(seconds=row.offset_s)) for row in rows]
        after_commit(session, lambda: self._schedule_all(planned))

    async def replan(self, session: AsyncSession, event: Event) -> None:
        """The time changed: the reminders not sent yet are made again for the new time."""
        await self.drop_unsent(session, event)
        await self.plan(session, event)

    async def drop_unsent(self, session: AsyncSession, event: Event) -> None:
        unsent = Reminder.event_id == event.id, Reminder.sent_at.is_(None)
        ids = list((await session.scalars(select(Reminder.id).where(*unsent))).all())
        await session.execute(delete(Reminder).where(Reminder.id.in_(ids)))
        after_commit(session, lambda: self._cancel_all(ids))

    def _cancel_all(self, reminder_ids: list[int]) -> None:
        for reminder_id in reminder_ids:
            self.services.scheduler.cancel(job_id(reminder_id))

    def _schedule_all(self, planned: list[tuple[int, datetime]]) -> None:
        for reminder_id, due in planned:
            self.services.scheduler.at(job_id(reminder_id), due, self.fire, reminder_id)

    async def rebuild(self) -> tuple[int, int]:
        """At start: a job per reminder not sent; those too late for the grace period are dropped."""
        async with self.services.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Reminder.id, Reminder.due_at, Reminder.event_id)
                    .join(Event, Event.id == Reminder.event_id)
                    .where(Reminder.sent_at.is_(None), Reminder.dropped_at.is_(None), Event.status == SCHEDULED)
                    .order_by(Reminder.due_at)
                )
            ).all()
        scheduled, late = 0, []
        for reminder_id, due, event_id in rows:
            due_at = aware(due)
            assert due_at is not None
            if self.services.scheduler.at(job_id(reminder_id), due_at, self.fire, reminder_id):
                scheduled += 1
            else:
                late.append(reminder_id)
                log.info(
                    "reminder dropped: it fell due too long ago (bot was down)",
                    extra={"reminder": reminder_id, "event": event_id, "due": due_at.isoformat()},
                )
        if late:
            async with self.services.db.transaction() as session:
                for reminder_id in late:
                    row = await session.get(Reminder, reminder_id)
                    if row is not None:
                        row.dropped_at = self.now()
        return scheduled, len(late)

    async def fire(self, reminder_id: int) -> None:
        """Job: the reminder, once. A homeserver that fails for now is tried again in a minute."""
        try:
            await self._fire(reminder_id)
        except TransientError:
            log.warning("reminder failed for now; trying again", extra={"reminder": reminder_id})
            self.services.scheduler.at(job_id(reminder_id), self.now() + RETRY, self.fire, reminder_id)

    async def _open_dms(self, users: list[str]) -> dict[str, str]:
        """Each one's DM; one the homeserver refuses is left out (the room message still pings them)."""
        dms = {}
        for user in users:
            try:
                dms[user] = await self.services.direct.open(user)
            except RuntimeError:
                log.warning("no DM for a reminder: the homeserver refused the chat")
        return dms

    async def _fire(self, reminder_id: int) -> None:
        services = self.services
        async with services.work() as uow:
            session = uow.session
            reminder = await session.get(Reminder, reminder_id)
            if reminder is None or reminder.sent_at is not None or reminder.dropped_at is not None:
                return
            event = await session.get(Event, reminder.event_id)
            if event is None or event.status != SCHEDULED:
                reminder.dropped_at = self.now()
                return
            coming = await RsvpBook.seated(uow, event.id)
            dms = await self._open_dms(coming)  # before writing (see rsvp.py)
            reminder.sent_at = self.now()
            offset = timedelta(seconds=reminder.offset_s)
            i18n = services.i18n

            def room_text(lang: str) -> str:
                when = event_span(i18n, lang, event)
                before = before_text(i18n, lang, offset)
                return i18n.t(lang, "events.reminder.room", title=event.title, when=when, before=before, id=event.id)

            posted = await self.announcer.in_thread(uow, event, room_text, coming)
            for user in coming:  # the room message carries their ids in m.mentions: erasure takes it back
                uow.ledger.record(posted, PURPOSE, subject=str(event.id), user_id=user)
            for user, dm in dms.items():
                them = await speaking_to(uow, user)
                when, before = event_span(i18n, them.lang, event), before_text(i18n, them.lang, offset)
                lines = [them.t("events.reminder.dm", title=event.title, when=when, before=before)]
                if event.place:
                    lines.append(them.t("events.ann.place", place=event.place))
                if event.link:
                    lines.append(them.t("events.ann.link", link=event.link))
                lines.append(them.t("events.reminder.cant", id=event.id))
                them.text(dm, "\n".join(lines), mentions=[user])
        log.info("reminder sent", extra={"reminder": reminder_id, "event": event.id, "recipients": len(coming)})
