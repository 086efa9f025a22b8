"""Baseline for the ping benchmark: the least a matrix-nio bot can do —
sync_forever, and answer `!ping` with a notice reply. No database, no router."""

import asyncio
import json
import sys

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, RoomMessageText


async def main(homeserver: str, creds_json: str) -> None:
    creds = json.loads(creds_json)
    client = AsyncClient(homeserver, creds["user_id"], config=AsyncClientConfig(encryption_enabled=False))
    client.restore_login(creds["user_id"], creds["device_id"], creds["access_token"])
    start = {}

    async def on_message(room, event):
        if event.sender == client.user_id or event.server_timestamp < start["ts"]:
            return
        if event.body == "!ping":
            await client.room_send(
                room.room_id,
                "m.room.message",
                {
                    "msgtype": "m.notice",
                    "body": "Pong!",
                    "m.mentions": {},
                    "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                },
            )

    async def on_invite(room, event):
        if event.state_key == client.user_id and event.membership == "invite":
            await client.join(room.room_id)

    import time

    start["ts"] = int(time.time() * 1000)
    client.add_event_callback(on_message, RoomMessageText)
    client.add_event_callback(on_invite, InviteMemberEvent)
    print("ready", flush=True)
    await client.sync_forever(timeout=30000, full_state=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
