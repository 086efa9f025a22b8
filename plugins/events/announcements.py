"""The announcement in the theme's room: posted once, edited in place when
the counts or the event change (at most once per `edit_interval_s` per
event: a burst of reactions becomes one edit), and the bot's own ✅ ❓ ❌
under it, so that answering is one tap on a phone.

The announcement's Matrix event id is only known once the outbox sent it:
the `seed` job waits for it, keeps it on the event (reactions are matched by
it) and adds the three reactions. Until then the ledger knows the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.sending import Handle, Sender
from diabot.storage.models import aware

from .models import SCHEDULED, Event, Rsvp
from .rendering import FLAGS, Counts, announcement, languages_of
from .sessions import after_commit

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .config import EventsConfig

log = logging.getLogger(__name__)
PURPOSE = "events.announcement"
ANSWER_KEYS = ("✅", "❓", "❌")
SEED_WAIT_S = 60


class Announcer:
    def __init__(self, services: Services, config: EventsConfig):
        self.services = services
        self.config = config
        self.interval = timedelta(seconds=config.edit_interval_s)

    def now(self) -> datetime:
        return self.services.scheduler.now()

    # ---- reading ------------------------------------------------------------------------

    @staticmethod
    async def counts(session: AsyncSession, event_id: int) -> Counts:
        rows = await session.execute(
            select(Rsvp.answer, Rsvp.waitlisted, func.count())
            .where(Rsvp.event_id == event_id)
            .group_by(Rsvp.answer, Rsvp.waitlisted)
        )
        found = {"yes": 0, "maybe": 0, "no": 0, "waiting": 0}
        for answer, waitlisted, count in rows.all():
            found["waiting" if answer == "yes" and waitlisted else answer] += count
        return Counts(**found)

    async def event_id_of(self, sender: Sender, event: Event) -> str | None:
        """The announcement's Matrix event id (None while it waits in the outbox)."""
        if event.announcement_event_id:
            return event.announcement_event_id
        entries = await sender.ledger.find(PURPOSE, subject=str(event.id))
        return entries[0].event_id if entries else None

    async def event_for(self, session: AsyncSession, sender: Sender, room_id: str, target: str) -> Event | None:
        """The event whose announcement `target` is (a reaction's target)."""
        found = await session.scalar(select(Event).where(Event.announcement_event_id == target))
        if found is not None or not await self._unseeded_in(session, room_id):
            return found
        # Its seed job has not run yet (just sent, or the bot stopped in between): ask the ledger.
        entries = await sender.ledger.find(PURPOSE, room_id=room_id, event_id=target)
        if not entries or entries[0].subject is None:
            return None
        return await session.get(Event, int(entries[0].subject))

    @staticmethod
    async def _unseeded_in(session: AsyncSession, room_id: str) -> bool:
        query = select(Event.id).where(Event.room_id == room_id, Event.announcement_event_id.is_(None)).limit(1)
        return await session.scalar(query) is not None

    # ---- sending ------------------------------------------------------------------------

    async def post(self, sender: Sender, event: Event) -> Handle:
        text = announcement(self.services.i18n, event, Counts())
        handle = sender.notice(event.room_id, text)
        sender.ledger.record(handle, PURPOSE, subject=str(event.id))
        event_id = event.id
        after_commit(sender.session, lambda: self.schedule_seed(event_id))
        return handle

    def schedule_seed(self, event_id: int) -> None:
        self.services.scheduler.at(f"events.seed.{event_id}", self.now(), self.seed, event_id)

    async def seed(self, event_id: int) -> None:
        """Job: learn the announcement's event id, then react ✅ ❓ ❌ under it (once)."""
        async with self.services.work() as uow:
            event = await uow.session.get(Event, event_id)
            if event is None or event.announcement_event_id:
                return
            entries = await uow.ledger.find(PURPOSE, subject=str(event_id))
        if not entries:
            return
        sent = await self.services.outbox.event_id(entries[0].outbox_id, timeout=SEED_WAIT_S)
        if sent is None:
            log.warning("an announcement was not sent; no reactions under it", extra={"event": event_id})
            return
        async with self.services.work() as uow:
            event = await uow.session.get(Event, event_id)
            if event is None or event.announcement_event_id:
                return
            event.announcement_event_id = sent
            if event.status == SCHEDULED:
                for key in ANSWER_KEYS:
                    uow.react(event.room_id, sent, key)

    async def refresh(self, sender: Sender, event: Event) -> None:
        """The counts or the event changed: edit now, or once the interval since the last edit is over."""
        event.counts_dirty = True
        last = aware(event.counts_edited_at)
        now = self.now()
        if last is not None and now - last < self.interval:
            self._after_commit_schedule(sender.session, event.id, last + self.interval)
            return
        announced = await self.event_id_of(sender, event)
        if announced is None:  # still in the outbox: try again a little later
            self._after_commit_schedule(sender.session, event.id, now + self.interval)
            return
        counts = await self.counts(sender.session, event.id)
        sender.edit(event.room_id, announced, announcement(self.services.i18n, event, counts))
        event.counts_dirty = False
        event.counts_edited_at = now

    def _after_commit_schedule(self, session: AsyncSession, event_id: int, when: datetime) -> None:
        after_commit(session, lambda: self.schedule_flush(event_id, when))

    def schedule_flush(self, event_id: int, when: datetime) -> None:
        self.services.scheduler.at(f"events.counts.{event_id}", when, self.flush, event_id)

    async def flush(self, event_id: int) -> None:
        """Job: the edit that waited for the interval."""
        async with self.services.work() as uow:
            event = await uow.session.get(Event, event_id)
            if event is not None and event.counts_dirty:
                await self.refresh(uow, event)

    # ---- messages under the announcement ----------------------------------------------------

    async def in_thread(
        self, sender: Sender, event: Event, text_for: Callable[[str], str], mentions: list[str]
    ) -> Handle:
        """An m.text in the announcement's thread, in the announcement's languages,
        pinging only `mentions` (those who said yes)."""
        langs = languages_of(event)
        texts = [text_for(lang) for lang in langs]
        if len(langs) > 1:
            texts = [f"{FLAGS.get(lang, '')} {text}" for lang, text in zip(langs, texts, strict=True)]
        root = await self.event_id_of(sender, event)
        return sender.text(event.room_id, "\n\n".join(texts), thread=root, mentions=mentions or None)
