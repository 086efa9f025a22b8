"""Matrix edge: login/restore, the sync loop, E2EE upkeep, sending.

Exactly-once design: nio is told not to persist sync tokens (it would save
them *before* our handlers run). We save the token in our database after a
batch is handled; handled event ids make a replayed batch harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    KeysUploadResponse,
    LoginResponse,
    MegolmEvent,
    MessageDirection,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomInviteResponse,
    RoomLeaveResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomPutStateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError

from ..config import MatrixSettings
from ..events import Message, RoomEvent, Undecryptable, Unusable
from ..outbox import FILE_EVENT, LEAVE_EVENT, PermanentSendError
from ..storage import Database
from ..storage.models import HandledEvent, KnownRoom
from .convert import convert
from .http import HttpApi
from .identity import CrossSigning, KeyStore

log = logging.getLogger(__name__)

SYNC_TOKEN_KEY = "sync_token"
INSTALLATION_KEY = "installation_id"
DIRECT_MARKER = "org.diabot.direct"  # state event in the bot's direct chats, content.user_id = the member
WITHHELD_TYPES = {"m.room_key.withheld", "org.matrix.room_key.withheld"}
RESEND_ASK_INTERVAL_S = 3600


def sync_filter(timeline_limit: int) -> dict:
    return {
        "presence": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
        "room": {
            "timeline": {"limit": timeline_limit},
            "ephemeral": {"not_types": ["*"]},
            "state": {"lazy_load_members": False},
        },
    }


PERMANENT_ERRCODES = {"M_FORBIDDEN", "M_TOO_LARGE", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_UNKNOWN_TOKEN"}
# Versions in which room creators outrank everyone and are absent from power_levels.
_CREATOR_POWER_VERSIONS = {"org.matrix.hydra.11"}

EventSink = Callable[[RoomEvent | Unusable], Awaitable[None]]
InvitePolicy = Callable[[str, str], Awaitable[bool]]


def _failpoint(name: str, handled: int) -> None:
    """Crash tests: DIABOT_FAILPOINT_FILE names a file holding a failpoint
    name; when armed and the batch had events, the process dies at once (like
    SIGKILL) after removing the file, so the restart runs normally."""
    path = os.environ.get("DIABOT_FAILPOINT_FILE")
    if not path or not handled:
        return
    try:
        armed = Path(path).read_text().strip() == name
    except OSError:
        return
    if armed:
        Path(path).unlink()
        os._exit(137)


class MatrixClient:
    def __init__(self, settings: MatrixSettings, data_dir: Path, db: Database, max_event_age_s: int, metrics=None):
        self.settings = settings
        self.data_dir = data_dir
        self.db = db
        self.max_event_age_ms = max_event_age_s * 1000
        self.metrics = metrics
        self.user_id = settings.user_id
        self.client: AsyncClient | None = None
        self.last_sync = 0.0
        self.stuck_since: float | None = None
        self._installation_id: str | None = None  # first failed sync or batch since the last good one
        self.synced = asyncio.Event()  # set after each handled batch (tests, health)
        self.stopping = asyncio.Event()
        self._creators: dict[str, frozenset[str]] = {}
        self._known_rooms: dict[str, int] = {}
        self._undecrypted: list[tuple[float, str, MegolmEvent]] = []
        # megolm session id -> "code: reason" from m.room_key.withheld
        self._withheld: dict[str, str] = {}
        self._reasons_logged: set[str] = set()  # session ids whose failure was logged
        self._asked_resend: dict[str, float] = {}  # room id -> when we last asked to resend
        self._delivered_in_batch = 0

    # ---- login -------------------------------------------------------------

    @property
    def _credentials_path(self) -> Path:
        return self.data_dir / "credentials.json"

    async def login(self) -> None:
        """Password login once; afterwards the same device from the data dir."""
        store = self.data_dir / "crypto"
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            max_timeout_retry_wait_time=self.settings.max_retry_wait_s,
            backoff_factor=0.25,
            request_timeout=self.settings.sync_timeout_ms / 1000 + 30,
            **({"pickle_key": self.settings.pickle_key.get_secret_value()} if self.settings.pickle_key else {}),
        )
        creds = self._load_credentials()
        if creds is None and self.settings.access_token is not None:
            creds = await self._credentials_from_token(self.settings.access_token.get_secret_value(), store, config)
        client = AsyncClient(self.settings.homeserver, self.user_id, store_path=str(store), config=config)
        if creds is None:
            if self.settings.password is None:
                raise RuntimeError("no stored credentials and no password configured")
            resp = await client.login(self.settings.password.get_secret_value(), device_name=self.settings.device_name)
            if not isinstance(resp, LoginResponse):
                await client.close()
                raise RuntimeError(f"login failed: {getattr(resp, 'message', resp)}")
            creds = {"user_id": resp.user_id, "device_id": resp.device_id, "access_token": resp.access_token}
            self._save_credentials(creds)
            log.info("logged in with a new device", extra={"device_id": resp.device_id})
        else:
            client.restore_login(creds["user_id"], creds["device_id"], creds["access_token"])
            log.info("restored device", extra={"device_id": creds["device_id"]})
        self.user_id = creds["user_id"]
        self.client = client
        if self.settings.cross_signing:
            await self._ensure_identity(creds)

    async def _ensure_identity(self, creds: dict) -> None:
        """Cross-sign this device before anything is sent: a strict client that
        failed an event as UNSIGNED_SENDER_DEVICE never retries it."""
        assert self.client is not None
        if self.client.should_upload_keys:
            resp = await self.client.keys_upload()  # the device keys must be on the server to be signed
            if not isinstance(resp, KeysUploadResponse):
                raise RuntimeError(f"uploading the device keys failed: {getattr(resp, 'message', resp)}")
        password = self.settings.password.get_secret_value() if self.settings.password else None
        async with HttpApi(self.settings.homeserver, creds["access_token"]) as api:
            await CrossSigning(api, creds["user_id"], creds["device_id"], KeyStore(self.data_dir), password).ensure()

    async def _credentials_from_token(self, token: str, store: Path, config: AsyncClientConfig) -> dict:
        probe = AsyncClient(self.settings.homeserver, self.user_id, config=AsyncClientConfig(encryption_enabled=False))
        probe.access_token = token
        resp = await probe.whoami()
        await probe.close()
        if not isinstance(resp, WhoamiResponse) or not resp.device_id:
            raise RuntimeError("the configured access token is not valid")
        creds = {"user_id": resp.user_id, "device_id": resp.device_id, "access_token": token}
        self._save_credentials(creds)
        return creds

    def _load_credentials(self) -> dict | None:
        try:
            return json.loads(self._credentials_path.read_text())
        except (OSError, ValueError):
            return None

    def _save_credentials(self, creds: dict) -> None:
        tmp = self._credentials_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(creds, fh)
        tmp.replace(self._credentials_path)

    # ---- room state (for permissions) ---------------------------------------

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self.client.rooms.get(room_id) if self.client else None
        if room is None:
            return 0
        return room.power_levels.get_user_level(user_id)

    async def is_creator(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id) if self.client else None
        if room is None:
            return False
        version = str(room.room_version or "1")
        if not (version in _CREATOR_POWER_VERSIONS or (version.isdigit() and int(version) >= 12)):
            return False
        if room_id not in self._creators:
            # The create event never changes: fetch it once, with its sender.
            resp = await self.client.room_get_state(room_id)
            if not isinstance(resp, RoomGetStateResponse):
                return False
            creators: set[str] = set()
            for ev in resp.events:
                if ev.get("type") == "m.room.create" and ev.get("state_key") == "":
                    creators.add(ev.get("sender", ""))
                    creators.update((ev.get("content") or {}).get("additional_creators") or [])
            self._creators[room_id] = frozenset(c for c in creators if c)
        return user_id in self._creators[room_id]

    def room_ids(self) -> list[str]:
        return list(self.client.rooms) if self.client else []

    # ---- sending (outbox transport) ----------------------------------------

    # ---- room management (direct calls, not through the outbox) ------------------

    async def create_room(
        self,
        name: str,
        topic: str,
        *,
        space: bool = False,
        parent: str | None = None,
        invite: list[str] = (),
        encrypted: bool = False,
        is_direct: bool = False,
    ) -> str:
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        if parent:
            initial_state.append(
                {
                    "type": "m.space.parent",
                    "state_key": parent,
                    "content": {"via": [self.user_id.split(":", 1)[1]], "canonical": True},
                }
            )
        resp = await self.client.room_create(
            name=name or None,
            topic=topic or None,
            space=space,
            invite=list(invite),
            initial_state=initial_state,
            is_direct=is_direct,
            # Never trusted_private_chat: in room v12 it makes the invitee a
            # creator, i.e. all-powerful in the bot's own DM.
            preset=RoomPreset.private_chat,
        )
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"could not create room: {getattr(resp, 'message', resp)}")
        return resp.room_id

    async def open_direct(self, user_id: str, name: str) -> str:
        """The encrypted direct chat with `user_id`, created at most once.

        The room carries a `diabot.direct` state marker from its creation on;
        a replay (the bot stopped after creating it, before recording it) finds
        the room by that marker instead of opening a second one."""
        existing = await self.find_direct(user_id)
        if existing is not None:
            log.info("reusing a direct chat found by its marker", extra={"room_id": existing})
            return existing
        initial_state = [
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
            # state_key "": Synapse refuses a state key that is someone else's user id.
            {
                "type": DIRECT_MARKER,
                "state_key": "",
                "content": {"user_id": user_id, "installation": await self._installation()},
            },
        ]
        resp = await self.client.room_create(
            name=name or None,
            invite=[user_id],
            initial_state=initial_state,
            is_direct=True,
            preset=RoomPreset.private_chat,
        )
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"could not create a direct chat: {getattr(resp, 'message', resp)}")
        _failpoint("after-create-direct", handled=1)
        return resp.room_id

    async def _installation(self) -> str:
        """This installation's id (its database): a direct chat recorded by
        another installation of the same account is not ours to resume."""
        if self._installation_id is None:
            value = await self.db.get_value(INSTALLATION_KEY)
            if value is None:
                value = uuid.uuid4().hex
                await self.db.set_value(INSTALLATION_KEY, value)
            self._installation_id = value
        return self._installation_id

    async def find_direct(self, user_id: str) -> str | None:
        """A room of ours with the direct-chat marker for this user (two people at most)."""
        if self.client is None:
            return None
        for room_id, room in list(self.client.rooms.items()):
            if room.joined_count + room.invited_count > 2:
                continue
            if user_id not in room.users and user_id not in room.invited_users:
                continue
            marker = await self.get_state(room_id, DIRECT_MARKER)
            if marker and marker.get("user_id") == user_id and marker.get("installation") == await self._installation():
                return room_id
        return None

    async def put_state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> None:
        resp = await self.client.room_put_state(room_id, event_type, content, state_key=state_key)
        if not isinstance(resp, RoomPutStateResponse):
            raise RuntimeError(f"could not set {event_type}: {getattr(resp, 'message', resp)}")

    async def get_state(self, room_id: str, event_type: str, state_key: str = "") -> dict | None:
        resp = await self.client.room_get_state_event(room_id, event_type, state_key)
        return resp.content if isinstance(resp, RoomGetStateEventResponse) else None

    async def invite(self, room_id: str, user_id: str) -> bool:
        resp = await self.client.room_invite(room_id, user_id)
        return isinstance(resp, RoomInviteResponse)

    async def set_power(self, room_id: str, levels: dict[str, int]) -> None:
        """Read-modify-write: in room v12+ the creators must not be listed."""
        content = await self.get_state(room_id, "m.room.power_levels") or {}
        users = content.setdefault("users", {})
        creators = self._creators.get(room_id, frozenset())
        for user_id, level in levels.items():
            if user_id != self.user_id and user_id not in creators:
                users[user_id] = level
        await self.put_state(room_id, "m.room.power_levels", content)

    def has_joined(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id) if self.client else None
        return room is not None and user_id in room.users and user_id not in room.invited_users

    def is_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id) if self.client else None
        return room is not None and user_id in room.users

    async def _send_file(self, room_id: str, content: dict, txn_id: str) -> str:
        """Upload `content["text"]` as a file (encrypted in encrypted rooms), then send m.file."""
        import io

        data = content["text"].encode("utf-8")
        room = self.client.rooms.get(room_id)
        encrypt = bool(room and room.encrypted)
        resp, keys = await self.client.upload(
            io.BytesIO(data),
            content_type=content["mimetype"],
            filename=content["filename"],
            encrypt=encrypt,
            filesize=len(data),
        )
        if not isinstance(resp, UploadResponse):
            raise RuntimeError(f"upload failed: {getattr(resp, 'message', resp)}")
        message = {
            "msgtype": "m.file",
            "body": content["filename"],
            "filename": content["filename"],
            "info": {"mimetype": content["mimetype"], "size": len(data)},
            "m.mentions": {},
        }
        if encrypt:
            message["file"] = {**keys, "url": resp.content_uri, "mimetype": content["mimetype"]}
        else:
            message["url"] = resp.content_uri
        sent = await self.client.room_send(
            room_id, "m.room.message", message, tx_id=txn_id, ignore_unverified_devices=True
        )
        if isinstance(sent, RoomSendResponse):
            return sent.event_id
        raise RuntimeError(f"send failed: {getattr(sent, 'status_code', '')} {getattr(sent, 'message', '')}")

    def is_public(self, room_id: str) -> bool:
        """Strangers can read it: anyone may join, or its history is world-readable."""
        room = self.client.rooms.get(room_id) if self.client else None
        if room is None:
            return True  # unknown: assume the worst
        return room.join_rule in ("public", "knock", "knock_restricted") or room.history_visibility == "world_readable"

    def member_count(self, room_id: str) -> int:
        room = self.client.rooms.get(room_id) if self.client else None
        return room.joined_count if room is not None else 0

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.client.rooms.get(room_id) if self.client else None
        name = room.user_name(user_id) if room is not None else None
        return name or user_id.split(":", 1)[0].lstrip("@")

    async def fetch_message(self, room_id: str, event_id: str):
        """A past event as a diabot Message (decrypted if need be), or None."""
        resp = await self.client.room_get_event(room_id, event_id)
        event = getattr(resp, "event", None)
        if event is None:
            return None
        encrypted = False
        if isinstance(event, MegolmEvent):
            event.room_id = room_id
            try:
                event = self.client.decrypt_event(event)
            except Exception:
                return None
            encrypted = True
        source = getattr(event, "source", None)
        converted = convert(source, room_id, encrypted)
        return converted if isinstance(converted, Message) else None

    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        try:
            if event_type == FILE_EVENT:
                return await self._send_file(room_id, content, txn_id)
            if event_type == LEAVE_EVENT:
                left = await self.client.room_leave(room_id)
                if isinstance(left, RoomLeaveResponse):
                    return ""
                raise RuntimeError(f"leave failed: {getattr(left, 'message', left)}")
            if event_type == "m.room.redaction":
                resp = await self.client.room_redact(
                    room_id, content["redacts"], reason=content.get("reason"), tx_id=txn_id
                )
                if isinstance(resp, RoomRedactResponse):
                    return resp.event_id
            else:
                resp = await self.client.room_send(
                    room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
                )
        except OlmUnverifiedDeviceError as exc:  # cannot happen with ignore_unverified_devices
            raise PermanentSendError(str(exc)) from exc
        except LocalProtocolError as exc:
            # "No such room": not joined (yet); the outbox retries a few times.
            raise RuntimeError(str(exc)) from exc
        if isinstance(resp, RoomSendResponse):
            return resp.event_id
        code = getattr(resp, "status_code", None)
        if code in PERMANENT_ERRCODES:
            raise PermanentSendError(f"{code}: {getattr(resp, 'message', '')}")
        raise RuntimeError(f"send failed: {code} {getattr(resp, 'message', '')}")

    # ---- sync loop ------------------------------------------------------------

    def stop(self) -> None:
        self.stopping.set()

    async def run(self, sink: EventSink, invite_policy: InvitePolicy) -> None:
        token = await self.db.get_value(SYNC_TOKEN_KEY)
        await self._load_known_rooms()
        first = True
        failures = 0
        while not self.stopping.is_set():
            resp = await self.client.sync(
                timeout=0 if first else self.settings.sync_timeout_ms,
                sync_filter=sync_filter(self.settings.sync_timeline_limit),
                since=token if first else None,
                full_state=True if first else None,
            )
            if isinstance(resp, SyncError) or not isinstance(resp, SyncResponse):
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
                _failpoint("crash-before-token-save", handled=self._delivered_in_batch)
                await self.db.set_value(SYNC_TOKEN_KEY, resp.next_batch)
            except Exception:
                # Database unreachable or similar: do not advance the token;
                # the batch comes again (handled events are skipped then).
                self._note_stuck()
                log.exception("handling a sync batch failed; will retry it")
                self.client.next_batch = token
                await asyncio.sleep(self.settings.max_retry_wait_s)
                continue
            token = resp.next_batch
            self.stuck_since = None
            first = False
            self.last_sync = time.monotonic()
            self.synced.set()
            self.synced.clear()
            await self._e2ee_upkeep()

    def _note_stuck(self) -> None:
        """The loop is not getting through (homeserver or database): /health tells."""
        if self.stuck_since is None:
            self.stuck_since = time.monotonic()

    async def _e2ee_upkeep(self) -> None:
        c = self.client
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
            from sqlalchemy import select

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
        self._note_withheld(resp.to_device_events)
        for room_id, info in resp.rooms.invite.items():
            await self._handle_invite(room_id, info, invite_policy)
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
                    if getattr(e, "state_key", None) == self.user_id and getattr(e, "membership", None) == "join"
                ]
                await self._remember_room(room_id, max(own_join) if own_join else now_ms)
            elif info.timeline.limited and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch, now_ms) + events
            floor = max(self._known_rooms[room_id], now_ms - self.max_event_age_ms)
            for nio_event in events:
                await self._deliver(nio_event, room_id, floor, sink)
        await self._retry_undecrypted(sink)
        if self.metrics:
            self.metrics.sync_lag.set(0)

    async def _deliver(self, nio_event, room_id: str, floor: int, sink: EventSink) -> None:
        ts = getattr(nio_event, "server_timestamp", 0) or 0
        if ts <= floor or getattr(nio_event, "sender", None) == self.user_id:
            return
        if isinstance(nio_event, MegolmEvent):
            # Keys may arrive in a later sync; keep it for a while.
            self._undecrypted.append((time.monotonic(), room_id, nio_event))
            with contextlib.suppress(Exception):  # already requested, or no session info
                await self.client.request_room_key(nio_event)
            return
        await sink(
            self._convert(
                getattr(nio_event, "source", None), room_id, encrypted=bool(getattr(nio_event, "decrypted", False))
            )
        )
        self._delivered_in_batch += 1

    def _note_withheld(self, to_device_events: list) -> None:
        """Remember why a sender's client refused us a room key (nio ignores these)."""
        for ev in to_device_events:
            if getattr(ev, "type", None) not in WITHHELD_TYPES:
                continue
            content = (getattr(ev, "source", None) or {}).get("content") or {}
            session_id = content.get("session_id")
            if isinstance(session_id, str):
                self._withheld[session_id] = f"withheld {content.get('code')}: {content.get('reason', '')}".strip()

    def _log_undecryptable_once(self, room_id: str, enc: MegolmEvent) -> str:
        reason = self._withheld.get(enc.session_id, "no room key received")
        if enc.session_id not in self._reasons_logged:
            self._reasons_logged.add(enc.session_id)
            log.warning(
                "cannot decrypt messages of a megolm session",
                extra={"room_id": room_id, "sender": enc.sender, "session_id": enc.session_id, "reason": reason},
            )
            if self.metrics:
                self.metrics.undecryptable.inc()
        return reason

    @staticmethod
    def _convert(source: object, room_id: str, encrypted: bool) -> RoomEvent | Unusable:
        """convert() is total (fuzzed); this guard keeps a future bug in it from stopping the sync loop."""
        try:
            return convert(source, room_id, encrypted)
        except Exception as exc:
            event_id = source.get("event_id") if isinstance(source, dict) else ""
            return Unusable(
                event_id=event_id if isinstance(event_id, str) else "",
                room_id=room_id,
                reason=f"convert failed: {type(exc).__name__}",
            )

    async def _retry_undecrypted(self, sink: EventSink) -> None:
        pending, self._undecrypted = self._undecrypted, []
        now = time.monotonic()
        for since, room_id, enc in pending:
            enc.room_id = room_id
            try:
                decrypted = self.client.decrypt_event(enc)
            except Exception:  # nio raises EncryptionError while the key is missing
                decrypted = None
            if decrypted is None or isinstance(decrypted, MegolmEvent) or not hasattr(decrypted, "source"):
                waited = now - since
                if waited >= self.settings.undecryptable_notice_after_s:
                    reason = self._log_undecryptable_once(room_id, enc)
                    await self._ask_resend(room_id, enc, reason, sink)
                if waited < 600:
                    self._undecrypted.append((since, room_id, enc))
                continue
            await sink(self._convert(decrypted.source, room_id, encrypted=True))

    async def _ask_resend(self, room_id: str, enc: MegolmEvent, reason: str, sink: EventSink) -> None:
        """Once per chat and hour, so a member whose every message fails gets one answer, not one per message."""
        last = self._asked_resend.get(room_id)
        if last is not None and time.monotonic() - last < RESEND_ASK_INTERVAL_S:
            return
        self._asked_resend[room_id] = time.monotonic()
        await sink(
            Undecryptable(
                event_id=f"{enc.event_id}#undecryptable",
                room_id=room_id,
                sender=enc.sender,
                ts=enc.server_timestamp,
                type="m.room.encrypted",
                content={},
                encrypted=True,
                target=enc.event_id,
                reason=reason,
            )
        )

    async def _backfill(self, room_id: str, prev_batch: str, now_ms: int) -> list:
        """Fetch the gap of a limited timeline with /messages, newest first,
        until we reach handled events or the age limit."""
        floor = max(self._known_rooms.get(room_id, 0), now_ms - self.max_event_age_ms)
        fetched: list = []
        start = prev_batch
        for _ in range(20):  # bounded: at most 2,000 events
            resp = await self.client.room_messages(room_id, start=start, direction=MessageDirection.back, limit=100)
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

    async def _handle_invite(self, room_id: str, info, invite_policy: InvitePolicy) -> None:
        inviter = None
        for ev in info.invite_state:
            if isinstance(ev, InviteMemberEvent) and ev.state_key == self.user_id and ev.membership == "invite":
                inviter = ev.sender
        if inviter is None:
            return
        if await invite_policy(room_id, inviter):
            resp = await self.client.join(room_id)
            if isinstance(resp, JoinError):
                log.warning("could not join", extra={"room_id": room_id, "error": resp.message})
            else:
                log.info("joined on invite", extra={"room_id": room_id, "inviter": inviter})
        else:
            log.info("declined invite", extra={"room_id": room_id, "inviter": inviter})
            await self.client.room_leave(room_id)

    async def close(self) -> None:
        if self.client:
            await self.client.close()
