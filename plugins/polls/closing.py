"""Closing a poll, exactly once: at its closing time (a scheduler job, also
after downtime) or early by `!poll close`.

The close claims the poll with one conditional UPDATE (`closed_at IS NULL`)
in the same transaction that freezes the result and queues the end event and
the result message, so a job and a command racing, or a job replayed after a
restart, close it once. Responses the database lacks are fetched from
`/relations` first. The result is an m.text replying to the poll with every
voter in m.mentions: it reaches their phones (a notice would not, see
facts.md); the end event lets clients mark the poll as ended.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from diabot.plugin import Services
from diabot.sending import Sender
from diabot.storage.models import aware

from . import render
from .models import Poll
from .shapes import POLL_END, end_content
from .store import END, RESULT, PollStore
from .tally import Tally
from .votes import Votes

log = logging.getLogger(__name__)


class Closer:
    def __init__(self, services: Services, store: PollStore, votes: Votes):
        self.services = services
        self.store = store
        self.votes = votes
        self.zone = ZoneInfo(services.settings.bot.timezone)

    async def close(self, sender: Sender, poll_id: int, *, early: bool) -> Poll | None:
        """Close the poll in `sender`'s transaction; None if it was closed already (or is gone).
        `early`: the end moves to now (responses after it no longer count)."""
        session = sender.session
        poll = await self.store.by_id(session, poll_id)
        if poll is None or poll.closed_at is not None:
            return None
        await self.store.start_event(session, poll)  # the end event and the result refer to it
        await self.votes.rebuild(session, poll)
        now = self.services.scheduler.now()
        closes_at = aware(poll.closes_at)
        assert closes_at is not None
        end = min(closes_at, now) if early else closes_at
        claimed = await session.execute(
            update(Poll)
            .where(Poll.id == poll_id, Poll.closed_at.is_(None))
            .values(closed_at=now, closes_at=end)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None  # another close won
        await session.refresh(poll)
        outcome = await self.store.tally(session, poll)
        poll.result = outcome.to_json()
        self._announce(sender, poll, outcome)
        log.info("poll closed", extra={"poll": poll.id, "voters": len(outcome.choices), "late_s": _late(end, now)})
        return poll

    def _announce(self, sender: Sender, poll: Poll, outcome: Tally) -> None:
        # In the poll's own language (it was asked in it), whoever closes it.
        speaker = Sender(self.services, sender.session, poll.lang, sender.queued)
        if poll.start_event_id is not None:
            fallback = render.end_text(speaker, poll, outcome)
            end = speaker.raw(poll.room_id, POLL_END, end_content(poll.start_event_id, fallback))
            speaker.ledger.record(end, END, subject=str(poll.id))
        message = speaker.text(
            poll.room_id,
            render.result(speaker, poll, outcome, final=True),
            mentions=outcome.voters,
            reply_to=poll.start_event_id,
        )
        speaker.ledger.record(message, RESULT, subject=str(poll.id))


def _late(end: datetime, now: datetime) -> int:
    return max(0, int((now - end).total_seconds()))
