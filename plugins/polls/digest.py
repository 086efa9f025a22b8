"""The polls plugin's part of the digest: results of polls closed since the
last digest, in rooms the member is in (counts only: a result names nobody)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.plugin import Services

from .models import Poll

LIMIT = 10


class PollsDigest:
    def __init__(self, services: Services):
        self.services = services

    def register(self) -> None:
        self.services.insights.register_digest("polls", self.for_member)
        self.services.insights.register_room_digest("polls", self.for_theme)

    async def for_member(self, session: AsyncSession, user_id: str, since: datetime, lang: str) -> list[str]:
        polls = await self._closed(session, since)
        # Secret (working-group) polls are announced in their room too: membership of the room is the rule.
        return [self._line(p, lang) for p in polls if self.services.rooms.has_joined(p.room_id, user_id)][:LIMIT]

    async def for_theme(self, session: AsyncSession, theme: str, since: datetime, lang: str) -> list[str]:
        info = self.services.directory.by_slug(theme)
        if info is None:
            return []
        return [self._line(p, lang) for p in await self._closed(session, since) if p.room_id == info.room_id][:LIMIT]

    async def _closed(self, session: AsyncSession, since: datetime) -> list[Poll]:
        query = select(Poll).where(Poll.closed_at > since, Poll.result.is_not(None)).order_by(Poll.closed_at)
        return list(await session.scalars(query))

    def _line(self, poll: Poll, lang: str) -> str:
        counts: dict[str, int] = (poll.result or {}).get("counts", {})
        best = max(counts.values(), default=0)
        if best == 0:
            return self.services.i18n.t(lang, "polls.digest.no_votes", question=poll.question)
        winners = [poll.answers[int(i) - 1] for i, n in counts.items() if n == best and 0 < int(i) <= len(poll.answers)]
        return self.services.i18n.t(
            lang, "polls.digest.line", question=poll.question, answer=" / ".join(winners), count=best
        )
