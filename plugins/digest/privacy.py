"""!mydata and !forget for the digest: a member's choice and its times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.storage.models import aware

from .models import DigestSetting


class DigestPrivacy:
    async def export(self, session: AsyncSession, user_id: str) -> dict[str, Any] | None:
        row = await session.get(DigestSetting, user_id)
        if row is None:
            return None
        return {
            "frequency": row.frequency,
            "chosen_by_member": row.chosen,
            "next_at": _iso(row.next_at),
            "last_sent_at": _iso(row.last_sent_at),
        }

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        await session.execute(delete(DigestSetting).where(DigestSetting.user_id == user_id))


def _iso(moment: Any) -> str | None:
    value = aware(moment)
    return value.isoformat() if value is not None else None
