"""Opens rooms on request, so crash tests can stop the bot between creating a
room and recording it: `roomtest dm` opens the sender's direct chat,
`roomtest room <intent>` creates a room for that intent and invites the
sender. Each answers with the room id.

For shutdown tests: `roomtest slow <seconds>` keeps its handler (and its
transaction) waiting that long, and logs "roomtest handler is sleeping" when
it starts; `roomtest query <rows>` runs an SQLite query that counts that many
rows (about 0.3 s per million), and logs "roomtest handler is querying"."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from diabot.commands import on
from diabot.context import Context
from diabot.events import Message
from diabot.plugin import Plugin

log = logging.getLogger(__name__)
SLOW_COUNT = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :rows) SELECT count(*) FROM c"
)


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
        elif words[:2] == ["roomtest", "slow"] and len(words) == 3:
            await ctx.session.execute(text("SELECT 1"))  # a connection is in use while it waits
            log.info("roomtest handler is sleeping")
            await asyncio.sleep(float(words[2]))
            room_id = "none"
        elif words[:2] == ["roomtest", "query"] and len(words) == 3:
            log.info("roomtest handler is querying")
            await ctx.session.execute(SLOW_COUNT, {"rows": int(words[2])})
            room_id = "none"
        else:
            return
        ctx.reply_markdown(f"room {room_id}")
