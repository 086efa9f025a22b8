"""Which responses are stored: one from the sync (a native response or a reply
with numbers) or the ones a rebuild from `/relations` finds missing.

Not stored (never counted): a response after the end, one from another room,
one from someone who may not vote in a working-group poll, and — in a
rebuild — one a voter sent before they asked to be forgotten (the erasure
log's salted hash recognises them without keeping who they were).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.errors import TransientError
from diabot.plugin import Services
from diabot.storage.models import ErasureLog, aware

from .models import Poll
from .shapes import RESPONSE_TYPES
from .store import PollStore, end_ms, response_row
from .tally import answers_of

log = logging.getLogger(__name__)


class Outcome(Enum):
    COUNTED = "counted"
    LATE = "late"  # after the end
    NOT_A_VOTER = "not_a_voter"  # a working-group poll, someone outside it
    ELSEWHERE = "elsewhere"  # refers to the poll from another room


@dataclass(frozen=True)
class Vote:
    event_id: str
    room_id: str
    voter: str
    answers: list | None
    ts: int
    via: str  # "poll" | "reply"


class Votes:
    def __init__(self, services: Services, store: PollStore):
        self.services = services
        self.store = store

    async def may_vote(self, poll: Poll, user_id: str) -> bool:
        """Everyone in the poll's room (the homeserver lets only members send there), or the poll's role."""
        if poll.role is None:
            return True
        return await self.services.permissions.has_role(poll.role, user_id)

    async def record(self, session: AsyncSession, poll: Poll, vote: Vote) -> Outcome:
        if vote.room_id != poll.room_id:
            return Outcome.ELSEWHERE
        if vote.ts > end_ms(poll):
            return Outcome.LATE
        if not await self.may_vote(poll, vote.voter):
            return Outcome.NOT_A_VOTER
        row = response_row(poll, vote.event_id, vote.voter, vote.answers, vote.ts, vote.via)
        await self.store.add_responses(session, [row])
        return Outcome.COUNTED

    async def rebuild(self, session: AsyncSession, poll: Poll) -> int | None:
        """Add the native responses `/relations` has and the database lacks
        (missed while the bot was away longer than the sync replays, or a
        restored backup). Returns how many; None if the homeserver could not
        be asked (the database's responses stand)."""
        start = await self.store.start_event(session, poll)
        if start is None:
            return 0
        try:
            related = await self.services.rooms.fetch_relations(poll.room_id, start)
        except TransientError as exc:
            log.warning("could not fetch a poll's responses", extra={"poll": poll.id, "error": str(exc)})
            return None
        known = await self.store.known_response_ids(session, poll.id)
        bot = self.services.bot_user_id
        missing = [e for e in related if e.type in RESPONSE_TYPES and e.event_id not in known and e.sender != bot]
        if not missing:
            return 0
        erased = await self._erased_at(session, {e.sender for e in missing})
        voters = {sender for sender in {e.sender for e in missing} if await self.may_vote(poll, sender)}
        rows = [
            response_row(poll, e.event_id, e.sender, answers_of(e.content), e.ts, "poll")
            for e in missing
            if e.sender in voters and e.ts <= end_ms(poll) and e.ts > erased.get(e.sender, -1)
        ]
        await self.store.add_responses(session, rows)
        log.info("rebuilt poll responses from /relations", extra={"poll": poll.id, "added": len(rows)})
        return len(rows)

    async def _erased_at(self, session: AsyncSession, senders: set[str]) -> dict[str, int]:
        """For senders who were erased: when (ms); their earlier responses stay out."""
        privacy = self.services.privacy
        by_hash = {privacy.subject_hash(sender): sender for sender in senders}
        rows = await session.execute(
            select(ErasureLog.subject_hash, func.max(ErasureLog.erased_at))
            .where(ErasureLog.subject_hash.in_(list(by_hash)))
            .group_by(ErasureLog.subject_hash)
        )
        out: dict[str, int] = {}
        for subject_hash, erased_at in rows:
            moment = aware(erased_at)
            if moment is not None:
                out[by_hash[subject_hash]] = int(moment.timestamp() * 1000)
        return out
