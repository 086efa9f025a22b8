"""Which language to answer in: the user's choice > the language of the
command word they just used (`hint`) > the room's > the config's.

Looked up for every command, so both choices are cached in memory; a change
drops the cached entry only once its transaction has committed.
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from .storage.models import KnownRoom, UserSetting


class LanguageResolver:
    def __init__(self, default: str):
        self.default = default
        self._users: dict[str, str | None] = {}
        self._rooms: dict[str, str | None] = {}

    async def for_user(
        self, session: AsyncSession, user_id: str, room_id: str | None = None, hint: str | None = None
    ) -> str:
        if user_id in self._users:
            lang = self._users[user_id]
        else:
            lang = await session.scalar(select(UserSetting.language).where(UserSetting.user_id == user_id))
            self._users[user_id] = lang
        if lang:
            return lang
        if hint:
            return hint
        if room_id:
            if room_id in self._rooms:
                room_lang = self._rooms[room_id]
            else:
                room_lang = await session.scalar(select(KnownRoom.language).where(KnownRoom.room_id == room_id))
                self._rooms[room_id] = room_lang
            if room_lang:
                return room_lang
        return self.default

    def _drop_after_commit(self, session: AsyncSession, cache: dict, key: str) -> None:
        cache.pop(key, None)
        event.listen(session.sync_session, "after_commit", lambda _s: cache.pop(key, None), once=True)

    async def set_user(self, session: AsyncSession, user_id: str, lang: str | None) -> None:
        setting = await session.get(UserSetting, user_id)
        if setting is None:
            session.add(UserSetting(user_id=user_id, language=lang))
        else:
            setting.language = lang
        self._drop_after_commit(session, self._users, user_id)

    async def set_room(self, session: AsyncSession, room_id: str, lang: str | None) -> None:
        room = await session.get(KnownRoom, room_id)
        if room is not None:
            room.language = lang
        self._drop_after_commit(session, self._rooms, room_id)

    def forget_user(self, user_id: str) -> None:
        self._users.pop(user_id, None)
