"""Who may run moderator commands: power level in the room the command was
sent in, read from the current room state the sync keeps up to date (so a
demotion takes effect with the next event), or the config's admin list."""

from __future__ import annotations

from typing import Protocol

from .commands import Perm


class RoomState(Protocol):
    def power_level(self, room_id: str, user_id: str) -> int: ...

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        """Room v12+: creators have unlimited power and are not in power_levels."""
        ...


class Permissions:
    def __init__(self, state: RoomState, moderator_level: int, admins: list[str]):
        self.state = state
        self.moderator_level = moderator_level
        self.admins = frozenset(admins)

    async def is_moderator(self, room_id: str, user_id: str) -> bool:
        if user_id in self.admins:
            return True
        if self.state.power_level(room_id, user_id) >= self.moderator_level:
            return True
        return await self.state.is_creator(room_id, user_id)

    async def allows(self, perm: Perm, room_id: str, user_id: str) -> bool:
        if perm is Perm.MEMBER:
            return True
        return await self.is_moderator(room_id, user_id)
