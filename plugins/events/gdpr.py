"""The events plugin's part of !mydata and !forget (diabot/privacy.py):
a member's answers, calendar token, open creation dialogue, and the events
they organised. Erasure deletes the answers (the waitlist then moves up, in
a job of its own: an eraser must not open DMs), the token and the dialogue,
and takes their name off the events they organised (the events stay: others
are coming). The bot's messages that name them (reminders and
cancellations pinging them, attendee lists) are taken back by the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.storage.models import OutboxMessage

from .feeds import Feeds
from .models import CalendarToken, Event, EventDraft, Rsvp
from .sessions import after_commit


class EventPrivacy:
    def __init__(self, rebalance_later: Callable[[list[int]], None]):
        self.rebalance_later = rebalance_later

    async def export(self, session: AsyncSession, user_id: str) -> dict[str, Any] | None:
        answers = (
            await session.execute(
                select(Rsvp.event_id, Event.title, Rsvp.answer, Rsvp.waitlisted, Rsvp.answered_at)
                .join(Event, Event.id == Rsvp.event_id)
                .where(Rsvp.user_id == user_id)
                .order_by(Rsvp.event_id)
            )
        ).all()
        organised = (
            await session.execute(
                select(Event.id, Event.title, Event.starts_at).where(Event.organiser == user_id).order_by(Event.id)
            )
        ).all()
        token = await session.get(CalendarToken, user_id)
        draft = await session.get(EventDraft, user_id)
        out: dict[str, Any] = {}
        if answers:
            out["answers"] = [
                {"event": e, "title": t, "answer": a, "waitlisted": w, "at": str(at)} for e, t, a, w, at in answers
            ]
        if organised:
            out["organised"] = [{"event": i, "title": t, "starts_at": str(s)} for i, t, s in organised]
        if token is not None:
            out["calendar_token"] = {"token": token.token, "created_at": str(token.created_at)}
        if draft is not None:
            out["creation_dialogue"] = {"step": draft.step, "answers": draft.answers}
        return out or None

    async def erase(self, session: AsyncSession, user_id: str) -> list[OutboxMessage] | None:
        seated = select(Rsvp.event_id).where(Rsvp.user_id == user_id, Rsvp.answer == "yes")
        affected = list((await session.scalars(seated)).all())
        await session.execute(delete(Rsvp).where(Rsvp.user_id == user_id))
        if affected:
            await session.execute(update(Event).where(Event.id.in_(affected)).values(counts_dirty=True))
            after_commit(session, lambda: self.rebalance_later(affected))
        await session.execute(update(Event).where(Event.organiser == user_id).values(organiser=None))
        await session.execute(delete(EventDraft).where(EventDraft.user_id == user_id))
        await Feeds.erase(session, user_id)
        return None
