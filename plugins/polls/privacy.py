"""!mydata and !forget for polls: the votes a member cast and the polls they
started. Erasing deletes their votes (a closed poll keeps its frozen counts,
which name nobody) and the creator's name on their polls; votes they sent
before, if a rebuild from /relations finds them, stay out (see votes.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.storage.models import aware

from .models import Poll, PollResponse


class PollPrivacy:
    async def export(self, session: AsyncSession, user_id: str) -> dict[str, Any] | None:
        created = (await session.scalars(select(Poll).where(Poll.creator == user_id).order_by(Poll.id))).all()
        votes = (
            await session.execute(
                select(PollResponse, Poll)
                .join(Poll, Poll.id == PollResponse.poll_id)
                .where(PollResponse.voter == user_id)
                .order_by(PollResponse.ts)
            )
        ).all()
        if not created and not votes:
            return None
        return {
            "polls_started": [
                {"poll": poll.id, "question": poll.question, "room": poll.room_id, "created_at": _iso(poll.created_at)}
                for poll in created
            ],
            "votes": [
                {
                    "poll": poll.id,
                    "question": poll.question,
                    "answers": _texts(poll, response.answers),
                    "sent_ms": response.ts,
                    "via": response.via,
                }
                for response, poll in votes
            ],
        }

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(PollResponse).where(PollResponse.voter == user_id))
        await session.execute(update(Poll).where(Poll.creator == user_id).values(creator=None))


def _texts(poll: Poll, answers: list | None) -> list[str]:
    out = []
    for answer in answers or []:
        index = int(answer) - 1 if isinstance(answer, str) and answer.isdigit() else -1
        out.append(poll.answers[index] if 0 <= index < len(poll.answers) else str(answer))
    return out


def _iso(moment: Any) -> str:
    aware_moment = aware(moment)
    return aware_moment.isoformat() if aware_moment is not None else ""
