"""Who may run a command.

Community-wide commands (announcements, room management, statistics) are
decided by the power levels of the community **space** or the config's admin
list, never by the room the command is typed in: every member can create a
room of her own (or, in room v12, be a creator of a DM) and would otherwise be
a moderator there. Room-scoped commands are decided in the room they act on.
Power levels come from the room state the sync keeps current, so a demotion
takes effect with the next event.

Roles (`perm=Role("workgroup")`) name groups beyond member and moderator,
from the config's `roles:` — listed users, or the joined members of a room
(a theme slug or a room id). Community moderators and bot.admins have every
role: they must never be locked out of what they moderate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .commands import Perm

if TYPE_CHECKING:
    from .directory import ThemeInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Role:
    """A named group of members, usable as `perm=` of a command."""

    name: str


class RoleMembers(Protocol):
    """A role's definition (diabot.config.RoleSettings)."""

    users: list[str]
    room: str | None


class RoomState(Protocol):
    def power_level(self, room_id: str, user_id: str) -> int: ...

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        """Room v12+: creators have unlimited power and are not in power_levels."""
        ...

    def is_member(self, room_id: str, user_id: str) -> bool: ...

    def has_joined(self, room_id: str, user_id: str) -> bool: ...


class Rooms(Protocol):
    """The part of diabot.directory.CommunityDirectory that permissions need."""

    @property
    def space_id(self) -> str | None: ...

    def by_slug(self, slug: str) -> ThemeInfo | None: ...


class Permissions:
    def __init__(
        self,
        state: RoomState,
        directory: Rooms,
        moderator_level: int,
        admins: list[str],
        roles: Mapping[str, RoleMembers] | None = None,
    ):
        self.state = state
        self.directory = directory
        self.moderator_level = moderator_level
        self.admins = frozenset(admins)
        self.roles = dict(roles or {})

    async def _moderator_in(self, room_id: str, user_id: str) -> bool:
        if self.state.power_level(room_id, user_id) >= self.moderator_level:
            return True
        return await self.state.is_creator(room_id, user_id)

    async def is_community_moderator(self, user_id: str) -> bool:
        if user_id in self.admins:
            return True
        space = self.directory.space_id
        return space is not None and await self._moderator_in(space, user_id)

    async def is_member(self, user_id: str) -> bool:
        """Joined or invited to the community space (an invite is a moderator's word)."""
        if user_id in self.admins:
            return True
        space = self.directory.space_id
        return space is not None and self.state.is_member(space, user_id)

    def _role_room(self, role: RoleMembers) -> str | None:
        """The room whose joined members have the role: a theme's room by slug, or a room id."""
        if not role.room:
            return None
        if role.room.startswith("!"):
            return role.room
        theme = self.directory.by_slug(role.room)
        return theme.room_id if theme is not None else None

    async def has_role(self, role: Role | str, user_id: str) -> bool:
        name = role.name if isinstance(role, Role) else role
        if await self.is_community_moderator(user_id):
            return True
        members = self.roles.get(name)
        if members is None:
            return False
        if user_id in members.users:
            return True
        room_id = self._role_room(members)
        return room_id is not None and self.state.has_joined(room_id, user_id)

    async def allows(self, perm: Perm | Role, room_id: str, user_id: str) -> bool:
        if isinstance(perm, Role):
            return await self.has_role(perm, user_id)
        if perm is Perm.ANYONE:
            return True
        if perm is Perm.MEMBER:
            return await self.is_member(user_id)
        if perm is Perm.ROOM_MODERATOR and await self._moderator_in(room_id, user_id):
            return True
        return await self.is_community_moderator(user_id)
