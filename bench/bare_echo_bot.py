"""Baseline for the ping benchmark: the least a matrix-nio bot can do —
sync_forever, and answer `!ping` with a notice reply. No database, no router.

With $DIABOT_BENCH_TRACE set it writes, per `!ping`, when the sync response
arrived, when nio had parsed and processed it, and when room_send started and
ended (the same marks bench/profiled_bot.py writes for diabot)."""

import asyncio
import json
import os
import sys
import time

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, RoomMessageText, SyncResponse

now = time.perf_counter_ns
batch: dict = {}


def install_trace(path: str) -> None:
    out = open(path, "a", buffering=1)  # for the process's lifetime
    create, receive, send = AsyncClient.create_matrix_response, AsyncClient.receive_response, AsyncClient.room_send

    async def create_matrix_response(self, response_class, *args, **kwargs):
        if response_class is SyncResponse:
            batch.clear()
            batch["http"] = now()
        result = await create(self, response_class, *args, **kwargs)
        if response_class is SyncResponse:
            batch["parsed"] = now()
        return result

    async def receive_response(self, response):
        await receive(self, response)
        if isinstance(response, SyncResponse):
            batch["nio_done"] = now()

    async def room_send(self, *args, **kwargs):
        record = dict(batch, send_start=now())
        result = await send(self, *args, **kwargs)
        record["send_end"] = now()
        out.write(json.dumps(record) + "\n")
        return result

    AsyncClient.create_matrix_response = create_matrix_response
    AsyncClient.receive_response = receive_response
    AsyncClient.room_send = room_send


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

    start["ts"] = int(time.time() * 1000)
    client.add_event_callback(on_message, RoomMessageText)
    client.add_event_callback(on_invite, InviteMemberEvent)
    print("ready", flush=True)
    await client.sync_forever(timeout=30000, full_state=True)


if __name__ == "__main__":
    if os.environ.get("DIABOT_BENCH_TRACE"):
        install_trace(os.environ["DIABOT_BENCH_TRACE"])
    asyncio.run(main(sys.argv[1], sys.argv[2]))
