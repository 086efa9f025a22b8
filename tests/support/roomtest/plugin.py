"""Opens rooms on request, so crash tests can stop the bot between creating a
room and recording it: `roomtest dm` opens the sender's direct chat,
`roomtest room <intent>` creates a room for that intent and invites the
sender. Each answers with the room id."""

from __future__ import annotations

from diabot.commands import on
from diabot.context import Context
from diabot.events import Message
from diabot.plugin import Plugin


class RoomTestPlugin(Plugin):
    name = "roomtest"

    @on(Message)
    async def open_rooms(self, ctx: Context, event: Message) -> None:
        words = event.body.split()
        if words[:2] == ["roomtest", "dm"]:
            assert self.services.direct is not None
            room_id = await self.services.direct.open(event.sender)
        elif words[:2] == ["roomtest", "room"] and len(words) == 3:
            assert self.services.rooms is not None
            room_id = await self.services.rooms.create_room(
                f"test {words[2]}", "", intent=words[2], invite=[event.sender]
            )
        else:
            return
        ctx.reply_markdown(f"room {room_id}")
