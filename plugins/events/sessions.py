"""Small helpers around a handler's or job's transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.sending import Sender


def after_commit(session: AsyncSession, action: Callable[[], object]) -> None:
    """Run `action` once the transaction committed (scheduling a job for a row
    that a rollback would take back is a job about nothing)."""
    event.listen(session.sync_session, "after_commit", lambda _s: action(), once=True)


async def speaking_to(sender: Sender, user_id: str) -> Sender:
    """A sender in the same transaction that speaks `user_id`'s language."""
    lang = await sender.services.languages.for_user(sender.session, user_id)
    return Sender(sender.services, sender.session, lang, sender.queued)
