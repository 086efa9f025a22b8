"""!mydata and !forget for the exchange: a member's requests and knowledge items, the pins they
made, the matches suggested to or about them, and the question the bot waits for them to answer.
Erasing withdraws their requests (deleted, with their matches) and every pending introduction
they are part of; a message they pinned of someone else stays, without saying who pinned it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ExchangeItem, ExchangeMatch, ExchangePrompt


async def export(session: AsyncSession, user_id: str) -> dict[str, Any] | None:
    items = (await session.scalars(select(ExchangeItem).where(ExchangeItem.author == user_id))).all()
    pins = (await session.scalars(select(ExchangeItem).where(ExchangeItem.pinned_by == user_id))).all()
    matches = (
        await session.scalars(
            select(ExchangeMatch).where(or_(ExchangeMatch.suggested_to == user_id, ExchangeMatch.other == user_id))
        )
    ).all()
    prompt = await session.get(ExchangePrompt, user_id)
    if not (items or pins or matches or prompt):
        return None
    return {
        "items": [
            {
                "id": i.id,
                "kind": i.kind,
                "status": i.status,
                "text": i.text,
                "url": i.url,
                "resource": i.resource,
                "theme": i.theme,
                "side": i.side,
                "town": i.town,
                "created_at": i.created_at.isoformat(),
                "expires_at": i.expires_at.isoformat() if i.expires_at else None,
            }
            for i in items
        ],
        "pinned": [{"id": i.id, "url": i.url} for i in pins],
        "matches": [
            {"id": m.id, "seek": m.seek_id, "offer": m.offer_id, "state": m.state, "score": m.score} for m in matches
        ],
        "pending_question": {"kind": prompt.kind, "refs": prompt.refs} if prompt else None,
    }


async def erase(session: AsyncSession, user_id: str) -> None:
    own = select(ExchangeItem.id).where(ExchangeItem.author == user_id)
    await session.execute(
        delete(ExchangeMatch).where(
            or_(
                ExchangeMatch.suggested_to == user_id,
                ExchangeMatch.other == user_id,
                ExchangeMatch.seek_id.in_(own),
                ExchangeMatch.offer_id.in_(own),
            )
        )
    )
    await session.execute(delete(ExchangeItem).where(ExchangeItem.author == user_id))
    await session.execute(update(ExchangeItem).where(ExchangeItem.pinned_by == user_id).values(pinned_by=None))
    await session.execute(delete(ExchangePrompt).where(ExchangePrompt.user_id == user_id))
