"""Answers to an event: yes / maybe / no, by reaction or by command, and the
waitlist. A "yes" beyond the capacity waits; when a seat frees up (someone
says no, takes a reaction back, is erased, or the capacity grows) the
longest waiting moves up and gets an m.text in their DM.

Direct chats are opened before anything is written: opening one may write
in its own transaction, and SQLite would make it wait for ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from diabot.sending import Sender
from diabot.storage.models import aware

from .models import Event, Rsvp
from .rendering import event_span
from .sessions import speaking_to

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .announcements import Announcer

YES, MAYBE, NO = "yes", "maybe", "no"
# What members type after !rsvp <id>, in their language; all are accepted.
CHOICES = {"nl": ("ja", "misschien", "nee"), "de": ("ja", "vielleicht", "nein"), "en": ("yes", "maybe", "no")}
SYNONYMS = ("y", "j", "jawohl", "ok", "yep", "evt", "eventuell", "mogelijk", "n", "niet", "nicht", "✅", "❓", "❌")
_WORDS = {
    YES: {"ja", "yes", "y", "j", "jawohl", "ok", "yep", "✅"},
    MAYBE: {"misschien", "vielleicht", "maybe", "evt", "eventuell", "mogelijk", "❓"},
    NO: {"nee", "nein", "no", "n", "niet", "nicht", "❌"},
}
KEY_ANSWERS = {"✅": YES, "❓": MAYBE, "❌": NO}


def language_of(word: str) -> str | None:
    """The one language whose answer word this is ("nein" -> de; "ja" is nl and de: None)."""
    langs = [lang for lang, words in CHOICES.items() if word.lower() in words]
    return langs[0] if len(langs) == 1 else None


def answer_of(word: str) -> str:
    word = word.lower().replace("\ufe0f", "")
    return next(answer for answer, words in _WORDS.items() if word in words)


@dataclass(frozen=True)
class Outcome:
    answer: str | None  # None: no answer (any more)
    waitlisted: bool = False
    position: int = 0  # on the waitlist, from 1
    changed: bool = True


class RsvpBook:
    def __init__(self, services: Services, announcer: Announcer):
        self.services = services
        self.announcer = announcer

    async def answer(
        self,
        sender: Sender,
        event: Event,
        user_id: str,
        answer: str | None,
        *,
        reaction_event_id: str | None = None,
        tell_waitlisted: bool = False,
    ) -> Outcome:
        """Record `user_id`'s answer (None: taken back) and move the waitlist up if a seat freed.
        `tell_waitlisted`: a DM says they wait (they answered by reaction, no reply reaches them)."""
        session = sender.session
        now = self.announcer.now()
        with session.no_autoflush:
            rows = list((await session.scalars(select(Rsvp).where(Rsvp.event_id == event.id))).all())
            mine = next((r for r in rows if r.user_id == user_id), None)
            if mine is not None and mine.answer == answer:
                if reaction_event_id is not None:
                    mine.reaction_event_id = reaction_event_id
                return Outcome(answer, mine.waitlisted, _position(rows, mine), changed=False)
            if mine is None and answer is None:
                return Outcome(None, changed=False)
            others = [r for r in rows if r is not mine]
            seated = sum(1 for r in others if r.answer == YES and not r.waitlisted)
            waits = answer == YES and event.capacity is not None and seated >= event.capacity
            seated_after = seated + (1 if answer == YES and not waits else 0)
            promoted = _promotable(event, others, seated_after)
            dms = await self._open_dms([r.user_id for r in promoted] + ([user_id] if waits and tell_waitlisted else []))
        if answer is None:
            assert mine is not None
            await session.delete(mine)
        else:
            if mine is None:
                mine = Rsvp(event_id=event.id, user_id=user_id, answer=answer)
                session.add(mine)
                rows.append(mine)
            if answer != YES:
                mine.yes_at = None
            elif mine.answer != YES or mine.yes_at is None:
                mine.yes_at = now  # the waitlist's order: when they first said yes
            mine.answer, mine.waitlisted, mine.answered_at = answer, waits, now
            mine.reaction_event_id = reaction_event_id
        await self._promote(sender, event, promoted, dms)
        position = _position(rows, mine) if waits and mine is not None else 0
        if waits and user_id in dms:
            them = await speaking_to(sender, user_id)
            them.notice(
                dms[user_id], them.t("events.rsvp.waiting_dm", title=event.title, id=event.id, position=position)
            )
        await self.announcer.refresh(sender, event)
        return Outcome(answer, waits, position)

    async def rebalance(self, sender: Sender, event: Event) -> int:
        """Seats freed outside an answer (capacity raised, an erasure): move the waitlist up."""
        with sender.session.no_autoflush:
            rows = list((await sender.session.scalars(select(Rsvp).where(Rsvp.event_id == event.id))).all())
            seated = sum(1 for r in rows if r.answer == YES and not r.waitlisted)
            promoted = _promotable(event, rows, seated)
            dms = await self._open_dms([r.user_id for r in promoted])
        await self._promote(sender, event, promoted, dms)
        if promoted:
            await self.announcer.refresh(sender, event)
        return len(promoted)

    async def _open_dms(self, users: list[str]) -> dict[str, str]:
        return {user: await self.services.direct.open(user) for user in users}

    async def _promote(self, sender: Sender, event: Event, promoted: list[Rsvp], dms: dict[str, str]) -> None:
        for row in promoted:
            row.waitlisted = False
            them = await speaking_to(sender, row.user_id)
            when = event_span(self.services.i18n, them.lang, event)
            text = them.t("events.rsvp.promoted", title=event.title, when=when, id=event.id)
            them.text(dms[row.user_id], text, mentions=[row.user_id])

    @staticmethod
    async def seated(sender: Sender, event_id: int) -> list[str]:
        """Who comes (said yes and has a seat), in the order they said so."""
        query = (
            select(Rsvp.user_id)
            .where(Rsvp.event_id == event_id, Rsvp.answer == YES, Rsvp.waitlisted.is_(False))
            .order_by(Rsvp.yes_at, Rsvp.id)
        )
        return list((await sender.session.scalars(query)).all())

    @staticmethod
    async def said_yes(sender: Sender, event_id: int) -> list[str]:
        """Seated and waiting: everyone a cancellation concerns."""
        query = select(Rsvp.user_id).where(Rsvp.event_id == event_id, Rsvp.answer == YES).order_by(Rsvp.yes_at)
        return list((await sender.session.scalars(query)).all())


def _waiting(rows: list[Rsvp]) -> list[Rsvp]:
    waiting = [r for r in rows if r.answer == YES and r.waitlisted]
    # At the same moment the earlier row first; a row not yet written is the newest.
    return sorted(waiting, key=lambda r: (_sort_time(r.yes_at), r.id if r.id is not None else float("inf")))


def _sort_time(moment: datetime | None) -> float:
    found = aware(moment)
    return found.timestamp() if found is not None else float("inf")


def _promotable(event: Event, rows: list[Rsvp], seated: int) -> list[Rsvp]:
    if event.capacity is None:
        return _waiting(rows)  # the limit was lifted: everyone waiting comes
    free = event.capacity - seated
    return _waiting(rows)[: max(free, 0)]


def _position(rows: list[Rsvp], mine: Rsvp) -> int:
    if not mine.waitlisted:
        return 0
    waiting = _waiting(rows)
    return next((i for i, r in enumerate(waiting, 1) if r is mine), len(waiting))
