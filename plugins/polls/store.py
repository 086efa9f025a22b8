"""Reading and writing polls and responses; which poll an event belongs to.

The bot learns its own events' ids only once the outbox has sent them, so a
poll's start and text event ids are filled in from the ledger the first time
an event refers to one of them (then found by index).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.ledger import Ledger
from diabot.outbox import Outbox
from diabot.storage import Database
from diabot.storage.models import aware

from .models import Poll, PollResponse
from .tally import Response, Tally, tally

START = "polls.start"  # ledger purposes; the subject is the poll id
TEXT = "polls.text"
END = "polls.end"
RESULT = "polls.result"


def answer_ids(poll: Poll) -> list[str]:
    return [str(n) for n in range(1, len(poll.answers) + 1)]


def end_ms(poll: Poll) -> int:
    closes_at = aware(poll.closes_at)
    assert closes_at is not None
    return int(closes_at.timestamp() * 1000)


def is_open(poll: Poll) -> bool:
    return poll.closed_at is None


class PollStore:
    def __init__(self, db: Database, outbox: Outbox):
        self.db = db
        self.outbox = outbox

    # ---- finding polls --------------------------------------------------------------------

    async def by_id(self, session: AsyncSession, poll_id: int) -> Poll | None:
        return await session.get(Poll, poll_id)

    async def latest_in(self, session: AsyncSession, room_id: str, *, open_only: bool = False) -> Poll | None:
        query = select(Poll).where(Poll.room_id == room_id)
        if open_only:
            query = query.where(Poll.closed_at.is_(None))
        return await session.scalar(query.order_by(Poll.id.desc()).limit(1))

    async def open_polls(self, session: AsyncSession) -> list[Poll]:
        return list((await session.scalars(select(Poll).where(Poll.closed_at.is_(None)))).all())

    async def by_event(self, session: AsyncSession, event_id: str, *, start_only: bool = False) -> Poll | None:
        """The poll whose start event (or, unless `start_only`, whose text) is `event_id`."""
        poll = await self._by_known_event(session, event_id, start_only)
        if poll is None and await self._resolve_event_ids(session):
            poll = await self._by_known_event(session, event_id, start_only)
        return poll

    async def start_event(self, session: AsyncSession, poll: Poll) -> str | None:
        if poll.start_event_id is None:
            await self._resolve_event_ids(session, [poll])
        return poll.start_event_id

    async def _by_known_event(self, session: AsyncSession, event_id: str, start_only: bool) -> Poll | None:
        match = Poll.start_event_id == event_id
        if not start_only:
            match = or_(match, Poll.text_event_id == event_id)
        return await session.scalar(select(Poll).where(match).limit(1))

    async def _resolve_event_ids(self, session: AsyncSession, polls: Iterable[Poll] | None = None) -> bool:
        """Fill in the event ids of open polls that were sent since; True if any was new."""
        if polls is None:
            unresolved = or_(Poll.start_event_id.is_(None), Poll.text_event_id.is_(None))
            polls = (await session.scalars(select(Poll).where(Poll.closed_at.is_(None), unresolved))).all()
        ledger = Ledger(session, self.outbox)
        changed = False
        for poll in polls:
            for entry in await ledger.find(subject=str(poll.id)):
                if entry.event_id is None:
                    continue
                if entry.purpose == START and poll.start_event_id is None:
                    poll.start_event_id, changed = entry.event_id, True
                elif entry.purpose == TEXT and poll.text_event_id is None:
                    poll.text_event_id, changed = entry.event_id, True
        return changed

    # ---- responses --------------------------------------------------------------------------

    async def responses(self, session: AsyncSession, poll_id: int) -> list[Response]:
        rows = await session.execute(
            select(PollResponse.voter, PollResponse.answers, PollResponse.ts, PollResponse.event_id)
            .where(PollResponse.poll_id == poll_id)
            .order_by(PollResponse.ts, PollResponse.event_id)
        )
        return [Response(voter, answers, ts, event_id) for voter, answers, ts, event_id in rows]

    async def known_response_ids(self, session: AsyncSession, poll_id: int) -> set[str]:
        rows = await session.scalars(select(PollResponse.event_id).where(PollResponse.poll_id == poll_id))
        return set(rows)

    async def add_responses(self, session: AsyncSession, rows: list[dict]) -> None:
        """Insert responses, skipping any already stored (a replay, or a rebuild racing the sync)."""
        if not rows:
            return
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        await session.execute(insert(PollResponse).on_conflict_do_nothing(index_elements=["event_id"]), rows)

    async def forget_response(self, session: AsyncSession, event_id: str, room_id: str) -> None:
        """A redacted response: gone (only from the poll's own room)."""
        response = await session.get(PollResponse, event_id)
        if response is not None and (poll := await session.get(Poll, response.poll_id)) and poll.room_id == room_id:
            await session.delete(response)

    async def tally(self, session: AsyncSession, poll: Poll) -> Tally:
        responses = await self.responses(session, poll.id)
        return tally(responses, answer_ids(poll), poll.max_selections, end_ms(poll))


def response_row(poll: Poll, event_id: str, voter: str, answers: list | None, ts: int, via: str) -> dict:
    return {"event_id": event_id, "poll_id": poll.id, "voter": voter, "answers": answers, "ts": ts, "via": via}
