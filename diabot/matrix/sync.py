"""The sync loop: each batch is handed to the dispatcher, then its token is
saved in our database (nio is told not to: it would save it *before* our
handlers run). Handled event ids make a replayed batch harmless. A gap longer
than the timeline is backfilled; events from before the bot joined a room, or
older than the age limit, are never answered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import ClientError
from nio import (
    InviteMemberEvent,
    JoinError,
    MegolmEvent,
    MessageDirection,
    RoomMessagesResponse,
    SyncResponse,
)
from sqlalchemy import select

from .. import failpoints
from ..config import MatrixSettings
from ..events import RoomEvent, Unusable
from ..metrics import Metrics
from ..storage import Database
from ..storage.models import HandledEvent, KnownRoom
from .convert import safe_convert
from .session import MatrixSession
from .undecryptable import UndecryptableEvents

log = logging.getLogger(__name__)

SYNC_TOKEN_KEY = "sync_token"
BACKFILL_PAGES = 20  # at most 2,000 events per gap

EventSink = Callable[[RoomEvent | Unusable], Awaitable[None]]
InvitePolicy = Callable[[str, str, bool], Awaitable[bool]]  # (room, inviter, is_direct) -> accept


def sync_filter(timeline_limit: int) -> dict[str, object]:
    return {
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
        "room": {
            "timeline": {"limit": timeline_limit},
            "ephemeral": {"not_types": ["*"]},
            "state": {"lazy_load_members": False},
        },
    }


class SyncLoop:
    def __init__(
        self, session: MatrixSession, db: Database, max_event_age_s: int, metrics: Metrics | None = None
    ) -> None:
        self.session = session
        self.settings: MatrixSettings = session.settings
        self.db = db
        self.max_event_age_ms = max_event_age_s * 1000
        self.metrics = metrics
        self.undecryptable = UndecryptableEvents(session, self.settings.undecryptable_notice_after_s, metrics)
        self.last_sync = 0.0
        self.stuck_since: float | None = None  # first failed sync or batch since the last good one
        self.stopping = asyncio.Event()
        self._known_rooms: dict[str, int] = {}  # room id -> when we joined (ms): nothing before is answered
        self._delivered_in_batch = 0

    def stop(self) -> None:
        self.stopping.set()

    async def run(self, sink: EventSink, invite_policy: InvitePolicy) -> None:
        client = self.session.nio
        token = await self.db.get_value(SYNC_TOKEN_KEY)
        await self._load_known_rooms()
        first = True
        failures = 0
        while not self.stopping.is_set():
            try:
                resp = await client.sync(
                    timeout=0 if first else self.settings.sync_timeout_ms,
                    sync_filter=sync_filter(self.settings.sync_timeline_limit),
                    since=token if first else None,
                    full_state=True if first else None,
                )
            except (TimeoutError, OSError, ClientError) as exc:  # nio gave up retrying (finite max_timeouts)
                resp = exc
            if not isinstance(resp, SyncResponse):
                self._note_stuck()
                failures += 1
                wait = min(self.settings.max_retry_wait_s, 0.25 * 2 ** min(failures, 6))
                log.warning(
                    "sync failed, retrying", extra={"error": getattr(resp, "message", str(resp)), "wait_s": wait}
                )
                if getattr(resp, "status_code", None) == "M_UNKNOWN_TOKEN":
                    raise RuntimeError(
                        "the homeserver no longer accepts our access token; delete credentials.json to log in again"
                    )
                await asyncio.sleep(wait)
                continue
            failures = 0
            try:
                await self._handle_batch(resp, sink, invite_policy, resumed=token is not None or not first)
                if self._delivered_in_batch:
                    failpoints.hit("crash-before-token-save")
                await self.db.set_value(SYNC_TOKEN_KEY, resp.next_batch)
            except Exception:
                # Database unreachable or similar: do not advance the token;
                # the batch comes again (handled events are skipped then).
                self._note_stuck()
                log.exception("handling a sync batch failed; will retry it")
                client.next_batch = token
                await asyncio.sleep(self.settings.max_retry_wait_s)
                continue
            token = resp.next_batch
            self.stuck_since = None
            first = False
            self.last_sync = time.monotonic()
            await self._e2ee_upkeep()

    def _note_stuck(self) -> None:
        """The loop is not getting through (homeserver or database): /health tells."""
        if self.stuck_since is None:
            self.stuck_since = time.monotonic()

    async def _e2ee_upkeep(self) -> None:
        c = self.session.nio
        tasks = [c.send_to_device_messages()]
        if c.should_upload_keys:
            tasks.append(c.keys_upload())
        if c.should_query_keys:
            tasks.append(c.keys_query())
        if c.should_claim_keys:
            tasks.append(c.keys_claim(c.get_users_for_key_claiming()))
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("e2ee upkeep failed", extra={"error": repr(result)})

    async def _load_known_rooms(self) -> None:
        async with self.db.sessions() as session:
            rows = (await session.execute(select(KnownRoom.room_id, KnownRoom.joined_ts))).all()
        self._known_rooms = {room_id: ts for room_id, ts in rows}

    async def _remember_room(self, room_id: str, joined_ts: int) -> None:
        async with self.db.transaction() as session:
            if await session.get(KnownRoom, room_id) is None:
                session.add(KnownRoom(room_id=room_id, joined_ts=joined_ts))
        self._known_rooms[room_id] = joined_ts

    async def _handle_batch(
        self, resp: SyncResponse, sink: EventSink, invite_policy: InvitePolicy, resumed: bool
    ) -> None:
        self._delivered_in_batch = 0
        self.undecryptable.note_withheld(resp.to_device_events)
        for room_id, info in resp.rooms.invite.items():
            await self._handle_invite(room_id, info.invite_state, invite_policy)
        now_ms = int(time.time() * 1000)
        for room_id, info in resp.rooms.join.items():
            events = list(info.timeline.events)
            if not resumed:
                # Very first sync of this data dir: we cannot know what was
                # answered before, so nothing in it is answered.
                if room_id not in self._known_rooms:
                    await self._remember_room(room_id, now_ms)
                continue
            if room_id not in self._known_rooms:
                # Newly joined (or first start): everything up to our own join
                # is history and is never answered.
                own_join = [
                    e.server_timestamp
                    for e in events
                    if getattr(e, "state_key", None) == self.session.user_id
                    and getattr(e, "membership", None) == "join"
                ]
                await self._remember_room(room_id, max(own_join) if own_join else now_ms)
            elif info.timeline.limited and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch, now_ms) + events
            floor = max(self._known_rooms[room_id], now_ms - self.max_event_age_ms)
            for nio_event in events:
                await self._deliver(nio_event, room_id, floor, sink)
        await self.undecryptable.retry(sink)
        if self.metrics:
            self.metrics.sync_lag.set(0)

    async def _deliver(self, nio_event: object, room_id: str, floor: int, sink: EventSink) -> None:
        ts = getattr(nio_event, "server_timestamp", 0) or 0
        if ts <= floor or getattr(nio_event, "sender", None) == self.session.user_id:
            return
        if isinstance(nio_event, MegolmEvent):
            await self.undecryptable.keep(room_id, nio_event)
            return
        encrypted = bool(getattr(nio_event, "decrypted", False))
        await sink(safe_convert(getattr(nio_event, "source", None), room_id, encrypted))
        self._delivered_in_batch += 1

    async def _backfill(self, room_id: str, prev_batch: str, now_ms: int) -> list[object]:
        """Fetch the gap of a limited timeline with /messages, newest first,
        until we reach handled events or the age limit."""
        floor = max(self._known_rooms.get(room_id, 0), now_ms - self.max_event_age_ms)
        fetched: list[object] = []
        start = prev_batch
        for _ in range(BACKFILL_PAGES):
            resp = await self.session.nio.room_messages(
                room_id, start=start, direction=MessageDirection.back, limit=100
            )
            if not isinstance(resp, RoomMessagesResponse) or not resp.chunk:
                break
            stop = False
            for ev in resp.chunk:
                if (getattr(ev, "server_timestamp", 0) or 0) <= floor or await self._is_handled(ev.event_id):
                    stop = True
                    break
                fetched.append(ev)
            if stop or not resp.end:
                break
            start = resp.end
        fetched.reverse()
        if fetched:
            log.info("backfilled a timeline gap", extra={"room_id": room_id, "events": len(fetched)})
        return fetched

    async def _is_handled(self, event_id: str) -> bool:
        async with self.db.sessions() as session:
            return await session.get(HandledEvent, event_id) is not None

    async def _handle_invite(self, room_id: str, invite_state: list[object], invite_policy: InvitePolicy) -> None:
        inviter, is_direct = None, False
        for ev in invite_state:
            if isinstance(ev, InviteMemberEvent) and ev.state_key == self.session.user_id and ev.membership == "invite":
                inviter = ev.sender
                is_direct = isinstance(ev.content, dict) and ev.content.get("is_direct") is True
        if inviter is None:
            return
        client = self.session.nio
        if await invite_policy(room_id, inviter, is_direct):
            resp = await client.join(room_id)
            if isinstance(resp, JoinError):
                log.warning("could not join", extra={"room_id": room_id, "error": resp.message})
            else:
                log.info("joined on invite", extra={"room_id": room_id, "inviter": inviter})
        else:
            log.info("declined invite", extra={"room_id": room_id, "inviter": inviter})
            await client.room_leave(room_id)
