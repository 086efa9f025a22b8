"""Idempotent room creation. The intent (a key such as `community.space` or
`direct:@anna:example.org`) is recorded first as a RoomIntent row; the room
is created with a marker state event naming the key and this installation;
then its id is recorded. A replay after a stop at any point (row without a
room id, or no row at all) looks for the marker among the rooms the bot has
joined and reuses that room: never a second one."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

from nio import JoinedRoomsResponse, RoomCreateResponse, RoomPreset

from .. import failpoints
from ..direct import DIRECT_INTENT_PREFIX
from ..storage import Database
from ..storage.models import RoomIntent, utcnow
from .responses import call, describe
from .rooms import Rooms
from .session import MatrixSession

log = logging.getLogger(__name__)

INTENT_MARKER = "org.diabot.intent"  # content: {"key": <intent>, "installation": <installation id>}
LEGACY_DIRECT_MARKER = "org.diabot.direct"  # direct chats of earlier versions: {"user_id", "installation"}
INSTALLATION_KEY = "installation_id"
PARALLEL_STATE_READS = 8


class RoomCreator:
    def __init__(self, session: MatrixSession, db: Database, rooms: Rooms):
        self.session = session
        self.db = db
        self.rooms = rooms
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # What each joined room's markers say (None: not ours). Markers are set at creation only,
        # so a room is read once per process; rooms created here are added as they are made.
        self._markers: dict[str, str | None] = {}
        self._installation_id: str | None = None

    async def create_room(
        self,
        name: str,
        topic: str,
        *,
        intent: str,
        space: bool = False,
        parent: str | None = None,
        invite: Iterable[str] = (),
        encrypted: bool = False,
        is_direct: bool = False,
        join_rule: str | None = None,
    ) -> str:
        """The room for `intent`, created at most once. TransientError when the homeserver fails
        for now (a later call finishes the job); RuntimeError when it refuses."""
        async with self._locks[intent]:
            room_id = await self._recorded(intent)
            if room_id is not None:
                return room_id
            await self._record_intent(intent)
            room_id = await self._find_by_marker(intent)
            if room_id is not None:
                log.info("reusing a room found by its creation marker", extra={"intent": intent, "room_id": room_id})
            else:
                room_id = await self._create(
                    name, topic, intent, space, parent, list(invite), encrypted, is_direct, join_rule
                )
                failpoints.hit(f"after-create-room:{intent}")
            await self._record_result(intent, room_id)
            return room_id

    async def find_room(self, intent: str) -> str | None:
        """The room made for `intent`, if there is one; creates nothing."""
        async with self._locks[intent]:
            room_id = await self._recorded(intent)
            if room_id is None:
                room_id = await self._find_by_marker(intent)
                if room_id is not None:
                    await self._record_result(intent, room_id)
            return room_id

    # ---- the record ------------------------------------------------------------------

    async def _recorded(self, intent: str) -> str | None:
        """The recorded room id, if the bot is still in that room (a room it left is not reused)."""
        async with self.db.sessions() as session:
            row = await session.get(RoomIntent, intent)
        if row is None or row.room_id is None:
            return None
        if row.room_id in self.session.nio.rooms or row.room_id in await self._joined_rooms():
            return row.room_id
        log.warning("the bot left the room recorded for an intent; making a new one", extra={"intent": intent})
        async with self.db.transaction() as session:
            row = await session.get(RoomIntent, intent)
            if row is not None:
                row.room_id, row.done_at = None, None
        return None

    async def _record_intent(self, intent: str) -> None:
        async with self.db.transaction() as session:
            if await session.get(RoomIntent, intent) is None:
                session.add(RoomIntent(key=intent))

    async def _record_result(self, intent: str, room_id: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(RoomIntent, intent)
            if row is None:
                row = RoomIntent(key=intent)
                session.add(row)
            row.room_id, row.done_at = room_id, utcnow()

    async def _installation(self) -> str:
        """This installation's id (its database): a room made by another installation of the same
        account (another test bot, a staging copy) carries a different one and is not ours."""
        if self._installation_id is None:
            value = await self.db.get_value(INSTALLATION_KEY)
            if value is None:
                value = uuid.uuid4().hex
                await self.db.set_value(INSTALLATION_KEY, value)
            self._installation_id = value
        return self._installation_id

    # ---- the marker --------------------------------------------------------------------

    async def _joined_rooms(self) -> list[str]:
        """From the homeserver, not the synced state: right after a restart nothing is synced yet."""
        resp = await call(self.session.nio.joined_rooms(), "list joined rooms")
        if not isinstance(resp, JoinedRoomsResponse):
            raise RuntimeError(f"could not list the joined rooms: {describe(resp)}")
        return list(resp.rooms)

    async def _find_by_marker(self, intent: str) -> str | None:
        joined = await self._joined_rooms()
        unread = [room_id for room_id in joined if room_id not in self._markers]
        if unread:
            installation = await self._installation()
            gate = asyncio.Semaphore(PARALLEL_STATE_READS)

            async def read(room_id: str) -> None:
                async with gate:
                    self._markers[room_id] = await self._marker_of(room_id, installation)

            await asyncio.gather(*(read(room_id) for room_id in unread))
        found = sorted(room_id for room_id in joined if self._markers.get(room_id) == intent)
        if len(found) > 1:
            log.warning("several rooms carry the same creation marker", extra={"intent": intent, "rooms": found})
        return found[0] if found else None

    async def _marker_of(self, room_id: str, installation: str) -> str | None:
        """The intent key this installation marked the room with, if any."""
        marker = await self.rooms.get_state(room_id, INTENT_MARKER)
        if marker and marker.get("installation") == installation and isinstance(marker.get("key"), str):
            return marker["key"]
        legacy = await self.rooms.get_state(room_id, LEGACY_DIRECT_MARKER)
        if legacy and legacy.get("installation") == installation and isinstance(legacy.get("user_id"), str):
            return DIRECT_INTENT_PREFIX + legacy["user_id"]
        return None

    # ---- the creation ------------------------------------------------------------------

    async def _create(
        self,
        name: str,
        topic: str,
        intent: str,
        space: bool,
        parent: str | None,
        invite: list[str],
        encrypted: bool,
        is_direct: bool,
        join_rule: str | None,
    ) -> str:
        # state_key "": Synapse refuses a state key that is someone else's user id.
        marker = {"key": intent, "installation": await self._installation()}
        initial_state: list[dict[str, object]] = [{"type": INTENT_MARKER, "state_key": "", "content": marker}]
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        if parent:
            server = self.session.user_id.split(":", 1)[1]
            initial_state.append(
                {"type": "m.space.parent", "state_key": parent, "content": {"via": [server], "canonical": True}}
            )
        if join_rule:
            rule: dict[str, object] = {"join_rule": join_rule}
            if join_rule in ("restricted", "knock_restricted") and parent:
                rule["allow"] = [{"type": "m.room_membership", "room_id": parent}]
            initial_state.append({"type": "m.room.join_rules", "state_key": "", "content": rule})
        request = self.session.nio.room_create(
            name=name or None,
            topic=topic or None,
            space=space,
            invite=invite,
            initial_state=initial_state,
            is_direct=is_direct,
            # Never trusted_private_chat: in room v12 it makes the invitees creators, i.e. all-powerful.
            preset=RoomPreset.private_chat,
        )
        resp = await call(request, "create a room")
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"could not create a room for {intent}: {describe(resp)}")
        self._markers[resp.room_id] = intent
        log.info("created a room", extra={"intent": intent, "room_id": resp.room_id})
        return resp.room_id
