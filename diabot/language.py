"""Which language to answer in: the user's choice > the room's > the config's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .storage.models import KnownRoom, UserSetting


class LanguageResolver:
    def __init__(self, default: str):
        self.default = default

    async def for_user(self, session: AsyncSession, user_id: str, room_id: str | None = None) -> str:
        lang = await session.scalar(select(UserSetting.language).where(UserSetting.user_id == user_id))
        if lang:
            return lang
        if room_id:
            lang = await session.scalar(select(KnownRoom.language).where(KnownRoom.room_id == room_id))
            if lang:
                return lang
        return self.default

    async def set_user(self, session: AsyncSession, user_id: str, lang: str) -> None:
        setting = await session.get(UserSetting, user_id)
        if setting is None:
            session.add(UserSetting(user_id=user_id, language=lang))
        else:
            setting.language = lang

    async def set_room(self, session: AsyncSession, room_id: str, lang: str | None) -> None:
        room = await session.get(KnownRoom, room_id)
        if room is not None:
            room.language = lang
