"""The Matrix edge, wired from its parts: login (session.py), the sync loop
(sync.py, undecryptable.py), rooms and what the bot does to them (rooms.py,
creation.py), sending (send.py). MatrixClient is what the app holds: the
outbox's transport, the plugins' RoomDirectory and the permissions' room state."""

from __future__ import annotations

from pathlib import Path

from ..config import MatrixSettings
from ..metrics import Metrics
from ..storage import Database
from .creation import RoomCreator
from .rooms import Rooms
from .send import EventSender
from .session import MatrixSession
from .sync import EventSink, InvitePolicy, SyncLoop


class MatrixClient:
    def __init__(
        self,
        settings: MatrixSettings,
        data_dir: Path,
        db: Database,
        max_event_age_s: int,
        metrics: Metrics | None = None,
    ):
        self.session = MatrixSession(settings, data_dir)
        self.sync = SyncLoop(self.session, db, max_event_age_s, metrics)
        self.rooms = Rooms(self.session)
        self.creator = RoomCreator(self.session, db, self.rooms)
        self.sender = EventSender(self.session)
        self.stopping = self.sync.stopping
        # Rooms: queries and direct actions, as the RoomDirectory and the permissions know them.
        self.knows = self.rooms.knows
        self.power_level = self.rooms.power_level
        self.is_creator = self.rooms.is_creator
        self.has_joined = self.rooms.has_joined
        self.is_member = self.rooms.is_member
        self.is_public = self.rooms.is_public
        self.member_count = self.rooms.member_count
        self.display_name = self.rooms.display_name
        self.fetch_message = self.rooms.fetch_message
        self.fetch_relations = self.rooms.fetch_relations
        self.get_state = self.rooms.get_state
        self.put_state = self.rooms.put_state
        self.invite = self.rooms.invite
        self.set_power = self.rooms.set_power
        self.create_room = self.creator.create_room
        self.find_room = self.creator.find_room

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def last_sync(self) -> float:
        return self.sync.last_sync

    @property
    def stuck_since(self) -> float | None:
        return self.sync.stuck_since

    async def login(self) -> None:
        await self.session.login()

    async def run(self, sink: EventSink, invite_policy: InvitePolicy) -> None:
        await self.sync.run(sink, invite_policy)

    def stop(self) -> None:
        self.sync.stop()

    async def close(self) -> None:
        await self.session.close()

    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        return await self.sender.send(room_id, event_type, content, txn_id)
