"""Direct chats with members: `services.direct.open(user_id)` finds or opens
the encrypted DM with a member, once (durable: see the idempotent room
creation at the Matrix edge), and any plugin can send there."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plugin import RoomDirectory

DIRECT_INTENT_PREFIX = "direct:"


def direct_intent(user_id: str) -> str:
    return DIRECT_INTENT_PREFIX + user_id


class DirectChats:
    def __init__(self, rooms: RoomDirectory, name: str = "diabot"):
        self.rooms = rooms
        self.name = name  # the room name the member sees

    async def open(self, user_id: str) -> str:
        """The room id of the direct chat with `user_id`, opened (and the member invited) at most
        once; raises TransientError when the homeserver fails for now."""
        room_id = await self.rooms.create_room(
            self.name, "", intent=direct_intent(user_id), invite=[user_id], encrypted=True, is_direct=True
        )
        if self.rooms.knows(room_id) and not self.rooms.is_member(room_id, user_id):
            # They left it: ask them back into the same chat rather than opening a second one.
            await self.rooms.invite(room_id, user_id)
        return room_id

    async def find(self, user_id: str) -> str | None:
        return await self.rooms.find_room(direct_intent(user_id))
