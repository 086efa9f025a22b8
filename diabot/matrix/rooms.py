"""Rooms as the bot sees them (membership, power, names: from the synced
state) and what it does to them directly, not through the outbox: state,
invites, power levels. Failures that may pass raise TransientError; a
permanent refusal keeps its answer (None / False / RuntimeError)."""

from __future__ import annotations

from nio import (
    MegolmEvent,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomInviteResponse,
    RoomPutStateResponse,
)

from ..events import Message, RoomEvent
from .convert import convert
from .relations import fetch_relations
from .responses import call, describe
from .session import MatrixSession

# Versions in which room creators outrank everyone and are absent from power_levels.
_CREATOR_POWER_VERSIONS = {"org.matrix.hydra.11"}


class Rooms:
    def __init__(self, session: MatrixSession):
        self.session = session
        self._creators: dict[str, frozenset[str]] = {}

    def _room(self, room_id: str):  # -> nio MatrixRoom | None
        return self.session.nio.rooms.get(room_id) if self.session.logged_in else None

    # ---- what the synced state says -------------------------------------------

    def knows(self, room_id: str) -> bool:
        """The synced state has this room (so the answers below are about it, not defaults)."""
        return self._room(room_id) is not None

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self._room(room_id)
        return room.power_levels.get_user_level(user_id) if room is not None else 0

    def has_joined(self, room_id: str, user_id: str) -> bool:
        room = self._room(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Joined or invited."""
        room = self._room(room_id)
        return room is not None and user_id in room.users

    def is_public(self, room_id: str) -> bool:
        """Strangers can read it: anyone may join, or its history is world-readable."""
        room = self._room(room_id)
        if room is None:
            return True  # unknown: assume the worst
        return room.join_rule in ("public", "knock", "knock_restricted") or room.history_visibility == "world_readable"

    def member_count(self, room_id: str) -> int:
        room = self._room(room_id)
        return room.joined_count if room is not None else 0

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self._room(room_id)
        name = room.user_name(user_id) if room is not None else None
        return name or user_id.split(":", 1)[0].lstrip("@")

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        """Room v12+: the creators have unlimited power and are not listed in power_levels."""
        room = self._room(room_id)
        if room is None:
            return False
        version = str(room.room_version or "1")
        if not (version in _CREATOR_POWER_VERSIONS or (version.isdigit() and int(version) >= 12)):
            return False
        if room_id not in self._creators:
            # The create event never changes: fetch it once, with its sender.
            resp = await self.session.nio.room_get_state(room_id)
            if not isinstance(resp, RoomGetStateResponse):
                return False
            creators: set[str] = set()
            for ev in resp.events:
                if ev.get("type") == "m.room.create" and ev.get("state_key") == "":
                    creators.add(ev.get("sender", ""))
                    creators.update((ev.get("content") or {}).get("additional_creators") or [])
            self._creators[room_id] = frozenset(c for c in creators if c)
        return user_id in self._creators[room_id]

    async def fetch_message(self, room_id: str, event_id: str) -> Message | None:
        """A past event as a diabot Message (decrypted if need be), or None."""
        client = self.session.nio
        resp = await client.room_get_event(room_id, event_id)
        event = getattr(resp, "event", None)
        if event is None:
            return None
        encrypted = False
        if isinstance(event, MegolmEvent):
            event.room_id = room_id
            try:
                event = client.decrypt_event(event)
            except Exception:
                return None
            encrypted = True
        converted = convert(getattr(event, "source", None), room_id, encrypted)
        return converted if isinstance(converted, Message) else None

    async def fetch_relations(self, room_id: str, event_id: str, rel_type: str = "m.reference") -> list[RoomEvent]:
        """Every event relating to `event_id` (all pages), decrypted where the bot has the keys."""
        return await fetch_relations(self.session.nio, room_id, event_id, rel_type)

    # ---- direct actions ------------------------------------------------------------

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict | None:
        """The state event's content; None when there is none or we may not read it."""
        resp = await call(self.session.nio.room_get_state_event(room_id, event_type, state_key), "get state")
        return resp.content if isinstance(resp, RoomGetStateEventResponse) else None

    async def put_state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> None:
        request = self.session.nio.room_put_state(room_id, event_type, content, state_key=state_key)
        resp = await call(request, f"set {event_type}")
        if not isinstance(resp, RoomPutStateResponse):
            raise RuntimeError(f"could not set {event_type}: {describe(resp)}")

    async def invite(self, room_id: str, user_id: str) -> bool:
        """False when the homeserver refuses (e.g. already a member, no permission)."""
        resp = await call(self.session.nio.room_invite(room_id, user_id), "invite")
        return isinstance(resp, RoomInviteResponse)

    async def set_power(self, room_id: str, levels: dict[str, int]) -> None:
        """Read-modify-write: in room v12+ the creators must not be listed."""
        content = await self.get_state(room_id, "m.room.power_levels") or {}
        users = content.setdefault("users", {})
        creators = self._creators.get(room_id, frozenset())
        for user_id, level in levels.items():
            if user_id != self.session.user_id and user_id not in creators:
                users[user_id] = level
        await self.put_state(room_id, "m.room.power_levels", content)
