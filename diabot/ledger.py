"""What the bot sent about what: one table for every plugin.

A plugin records a handle with a purpose ("translate.translation",
"members.intro", "polls.tally"), the subject it is about (the translated
message's event id, a poll id), the user it names and a detail (a target
language). Later it finds those events again to edit them (a tally, an RSVP
count), to take them back when their subject goes (a redacted message) or
when the user they name asks to be forgotten.

A message split into parts is recorded once per part, in order: `find`
returns the parts in the order they were sent (the first is the one to
edit), and `retract` takes back every part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from .storage.models import OutboxMessage, SentEvent

if TYPE_CHECKING:
    from .outbox import Outbox
    from .sending import Handle

# Per session: (row, entry) pairs whose outbox row had no id yet when recorded.
_PENDING = "diabot.ledger.pending"


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    outbox_id: int
    room_id: str
    purpose: str
    subject: str | None
    user_id: str | None
    detail: str | None
    event_id: str | None  # None while unsent (or if it was never sent)


def _add_flushed(session: Session, _flush: UOWTransaction) -> None:
    """After a flush the recorded outbox rows have ids: add their entries.
    session.commit() flushes again while anything is new, so they commit
    in the same transaction."""
    pending: list[tuple[OutboxMessage, SentEvent]] = session.info.get(_PENDING, [])
    waiting: list[tuple[OutboxMessage, SentEvent]] = []
    for row, entry in pending:
        if row.id is None:
            waiting.append((row, entry))
            continue
        entry.outbox_id = row.id
        session.add(entry)
    pending[:] = waiting


def _pending(session: AsyncSession) -> list[tuple[OutboxMessage, SentEvent]]:
    info = session.sync_session.info
    if _PENDING not in info:
        info[_PENDING] = []
        event.listen(session.sync_session, "after_flush_postexec", _add_flushed)
    pending: list[tuple[OutboxMessage, SentEvent]] = info[_PENDING]
    return pending


class Ledger:
    """Bound to a session (ctx.ledger, uow.ledger). Redactions that `retract`
    queues go to `queued` (the sender's list, sent after the commit) and are
    returned as well."""

    def __init__(self, session: AsyncSession, outbox: Outbox, queued: list[OutboxMessage] | None = None):
        self.session = session
        self.outbox = outbox
        self.queued = queued

    def record(
        self,
        handle: Handle,
        purpose: str,
        *,
        subject: str | None = None,
        user_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Remember that the event(s) of `handle` serve `purpose`; written with
        the same transaction (no flush needed: ids are filled in at the flush)."""
        if len(purpose) > 64 or (detail is not None and len(detail) > 64):
            raise ValueError("ledger purpose and detail are at most 64 characters")
        for row in handle.rows:
            entry = SentEvent(room_id=row.room_id, purpose=purpose, subject=subject, user_id=user_id, detail=detail)
            if row.id is not None:
                entry.outbox_id = row.id
                self.session.add(entry)
            else:
                _pending(self.session).append((row, entry))

    async def _flush_recorded(self) -> None:
        if self.session.sync_session.info.get(_PENDING):
            await self.session.flush()  # gives the outbox rows ids; their entries are added
            await self.session.flush()  # and written

    async def find(
        self,
        purpose: str | None = None,
        *,
        subject: str | None = None,
        user_id: str | None = None,
        detail: str | None = None,
        room_id: str | None = None,
        event_id: str | None = None,
    ) -> list[LedgerEntry]:
        """Entries matching every filter given, in the order they were recorded."""
        await self._flush_recorded()
        query = select(SentEvent, OutboxMessage.sent_event_id).outerjoin(
            OutboxMessage, OutboxMessage.id == SentEvent.outbox_id
        )
        for column, value in (
            (SentEvent.purpose, purpose),
            (SentEvent.subject, subject),
            (SentEvent.user_id, user_id),
            (SentEvent.detail, detail),
            (SentEvent.room_id, room_id),
            (OutboxMessage.sent_event_id, event_id),
        ):
            if value is not None:
                query = query.where(column == value)
        rows = (await self.session.execute(query.order_by(SentEvent.id))).all()
        return [
            LedgerEntry(
                id=sent.id,
                outbox_id=sent.outbox_id,
                room_id=sent.room_id,
                purpose=sent.purpose,
                subject=sent.subject,
                user_id=sent.user_id,
                detail=sent.detail,
                event_id=sent_event_id or None,
            )
            for sent, sent_event_id in rows
        ]

    async def retract(self, entries: Iterable[LedgerEntry]) -> list[OutboxMessage]:
        """Take back these events: redact what was sent, drop what was not
        (then it is never sent), and forget them. An event recorded for
        several users goes for all of them: it is gone."""
        outbox_ids = list(dict.fromkeys(e.outbox_id for e in entries))
        redactions = []
        for outbox_id in outbox_ids:
            if (redaction := await self.outbox.retract(self.session, outbox_id)) is not None:
                redactions.append(redaction)
        await self._delete(outbox_ids)
        if self.queued is not None:
            self.queued.extend(redactions)
        return redactions

    async def forget(self, entries: Iterable[LedgerEntry]) -> None:
        """Drop the records only (e.g. someone else redacted the event)."""
        await self._delete(list(dict.fromkeys(e.outbox_id for e in entries)))

    async def forget_user(self, user_id: str) -> list[OutboxMessage]:
        """Erasure: retract every event recorded as naming `user_id`."""
        return await self.retract(await self.find(user_id=user_id))

    async def _delete(self, outbox_ids: list[int]) -> None:
        if outbox_ids:
            await self._flush_recorded()
            await self.session.execute(delete(SentEvent).where(SentEvent.outbox_id.in_(outbox_ids)))
