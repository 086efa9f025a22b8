"""Who may run a command.

Community-wide commands (announcements, room management, statistics) are
decided by the power levels of the community **space** or the config's admin
list, never by the room the command is typed in: every member can create a
room of her own (or, in room v12, be a creator of a DM) and would otherwise be
a moderator there. Room-scoped commands are decided in the room they act on.
Power levels come from the room state the sync keeps current, so a demotion
takes effect with the next event.
"""

from __future__ import annotations

import logging
from typing import Protocol

from .commands import Perm

log = logging.getLogger(__name__)

SPACE_KEY = "community.space_id"


class RoomState(Protocol):
    def power_level(self, room_id: str, user_id: str) -> int: ...

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        """Room v12+: creators have unlimited power and are not in power_levels."""
        ...

    def is_member(self, room_id: str, user_id: str) -> bool: ...


class KeyValues(Protocol):
    async def get_value(self, key: str) -> str | None: ...

    async def set_value(self, key: str, value: str) -> None: ...


class Community:
    """Which space is the community. The community plugin records it when it
    creates the space; `invites.space` in the config names it otherwise."""

    def __init__(self, store: KeyValues, configured: str | None = None):
        self.store = store
        self.configured = configured
        self._space: str | None = configured

    async def space_id(self) -> str | None:
        if self._space is None:
            self._space = await self.store.get_value(SPACE_KEY)
        return self._space

    async def set_space(self, room_id: str) -> None:
        if self.configured and self.configured != room_id:
            log.warning(
                "invites.space names another space than the community plugin's; using the configured one",
                extra={"configured": self.configured, "plugin_space": room_id},
            )
            return
        await self.store.set_value(SPACE_KEY, room_id)
        self._space = room_id


class Permissions:
    def __init__(self, state: RoomState, community: Community, moderator_level: int, admins: list[str]):
        self.state = state
        self.community = community
        self.moderator_level = moderator_level
        self.admins = frozenset(admins)

    async def _moderator_in(self, room_id: str, user_id: str) -> bool:
        if self.state.power_level(room_id, user_id) >= self.moderator_level:
            return True
        return await self.state.is_creator(room_id, user_id)

    async def is_community_moderator(self, user_id: str) -> bool:
        if user_id in self.admins:
            return True
        space = await self.community.space_id()
        return space is not None and await self._moderator_in(space, user_id)

    async def is_member(self, user_id: str) -> bool:
        """Joined or invited to the community space (an invite is a moderator's word)."""
        if user_id in self.admins:
            return True
        space = await self.community.space_id()
        return space is not None and self.state.is_member(space, user_id)

    async def allows(self, perm: Perm, room_id: str, user_id: str) -> bool:
        if perm is Perm.ANYONE:
            return True
        if perm is Perm.MEMBER:
            return await self.is_member(user_id)
        if perm is Perm.ROOM_MODERATOR and await self._moderator_in(room_id, user_id):
            return True
        return await self.is_community_moderator(user_id)
