"""A real Matrix user for integration tests: a nio client with E2EE that
syncs in the background and lets a test wait for what the bot sends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MegolmEvent, RoomCreateResponse, RoomSendResponse

Event = dict[str, Any]
# A big timeline so a burst of bot replies never arrives as a limited (gappy) sync.
FILTER = {"room": {"timeline": {"limit": 500}}}


class MatrixUser:
    def __init__(self, homeserver: str, creds: dict, store: Path):
        store.mkdir(parents=True, exist_ok=True)
        self.user_id = creds["user_id"]
        self.client = AsyncClient(
            homeserver,
            self.user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.client.restore_login(self.user_id, creds["device_id"], creds["access_token"])
        self.events: list[Event] = []  # decrypted sources, in arrival order
        self._new = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._undecrypted: list[MegolmEvent] = []

    async def start(self) -> MatrixUser:
        first = await self.client.sync(timeout=0, full_state=True, sync_filter=FILTER)
        for room_id in getattr(getattr(first, "rooms", None), "invite", {}):
            await self.client.join(room_id)  # invites that waited for us
        self._task = asyncio.create_task(self._loop())
        return self

    async def _loop(self) -> None:
        while True:
            resp = await self.client.sync(timeout=1000, sync_filter=FILTER)
            for room_id, info in getattr(getattr(resp, "rooms", None), "join", {}).items():
                for ev in info.timeline.events:
                    if isinstance(ev, MegolmEvent):
                        ev.room_id = room_id
                        self._undecrypted.append(ev)  # its key may come in a later sync
                        continue
                    self._record(ev, room_id)
            self._retry_undecrypted()
            for room_id in getattr(getattr(resp, "rooms", None), "invite", {}):
                await self.client.join(room_id)
            await self._upkeep()
            self._new.set()

    def _record(self, ev, room_id: str) -> None:
        src = dict(ev.source)
        src["room_id"] = room_id
        src["_encrypted"] = bool(getattr(ev, "decrypted", False))
        self.events.append(src)

    def _retry_undecrypted(self) -> None:
        pending, self._undecrypted = self._undecrypted, []
        for ev in pending:
            try:
                decrypted = self.client.decrypt_event(ev)
            except Exception:
                decrypted = None
            if decrypted is None or isinstance(decrypted, MegolmEvent):
                self._undecrypted.append(ev)
            else:
                self._record(decrypted, ev.room_id)

    async def _upkeep(self) -> None:
        c = self.client
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())
        await c.send_to_device_messages()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    # ---- acting ------------------------------------------------------------

    async def create_room(
        self,
        *,
        invite: list[str] = (),
        encrypted: bool = False,
        name: str = "test",
        power: dict[str, int] | None = None,
        room_version: str | None = None,
    ) -> str:
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        kwargs = {}
        if room_version:
            kwargs["room_version"] = room_version
        resp = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            power_level_override={"users": {self.user_id: 100, **(power or {})}} if power is not None else None,
            **kwargs,
        )
        assert isinstance(resp, RoomCreateResponse), resp
        await self.wait_until(lambda: resp.room_id in self.client.rooms, 10)
        return resp.room_id

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        thread_root: str | None = None,
        msgtype: str = "m.text",
        extra: dict | None = None,
    ) -> str:
        content: dict = {"msgtype": msgtype, "body": body}
        if thread_root:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread_root},
            }
        content.update(extra or {})
        return await self.send_event(room_id, "m.room.message", content)

    async def send_event(self, room_id: str, event_type: str, content: dict) -> str:
        await self.wait_until(lambda: room_id in self.client.rooms, 10)
        resp = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    async def set_power(self, room_id: str, user_id: str, level: int) -> None:
        resp = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = dict(resp.content)
        content.setdefault("users", {})[user_id] = level
        await self.client.room_put_state(room_id, "m.room.power_levels", content)

    # ---- observing -----------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), min(remaining, 0.5))

    def from_sender(self, sender: str, room_id: str | None = None, type_: str = "m.room.message") -> list[Event]:
        return [
            e
            for e in self.events
            if e.get("sender") == sender and e.get("type") == type_ and (room_id is None or e.get("room_id") == room_id)
        ]

    async def wait_for_events(
        self, sender: str, room_id: str, count: int = 1, timeout: float = 20, type_: str = "m.room.message"
    ) -> list[Event]:
        try:
            await self.wait_until(lambda: len(self.from_sender(sender, room_id, type_)) >= count, timeout)
        except TimeoutError:
            got = [e.get("content", {}).get("body") for e in self.from_sender(sender, room_id, type_)]
            raise AssertionError(f"expected {count} events from {sender} in {room_id}, got {len(got)}: {got}") from None
        return self.from_sender(sender, room_id, type_)

    async def reply_to(self, event_id: str, sender: str, room_id: str, timeout: float = 20) -> Event:
        """The bot's answer that replies to `event_id`."""

        def find():
            for e in self.from_sender(sender, room_id):
                rel = e.get("content", {}).get("m.relates_to", {})
                if rel.get("m.in_reply_to", {}).get("event_id") == event_id:
                    return e
            return None

        try:
            await self.wait_until(lambda: find() is not None, timeout)
        except TimeoutError:
            got = [e.get("content", {}).get("body") for e in self.from_sender(sender, room_id)]
            raise AssertionError(f"no reply to {event_id} from {sender} within {timeout}s; bot said: {got}") from None
        return find()
