"""Encrypted events whose room key has not arrived (yet): kept for a while and
retried after each sync; past a limit the sender is asked, once per chat and
hour, to send again, and why it failed is logged once per megolm session."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from nio import MegolmEvent

from ..events import RoomEvent, Undecryptable, Unusable
from ..metrics import Metrics
from .convert import safe_convert
from .session import MatrixSession

log = logging.getLogger(__name__)

WITHHELD_TYPES = {"m.room_key.withheld", "org.matrix.room_key.withheld"}
RESEND_ASK_INTERVAL_S = 3600
GIVE_UP_AFTER_S = 600

EventSink = Callable[[RoomEvent | Unusable], Awaitable[None]]


class UndecryptableEvents:
    def __init__(self, session: MatrixSession, notice_after_s: float, metrics: Metrics | None = None):
        self.session = session
        self.notice_after_s = notice_after_s
        self.metrics = metrics
        self._pending: list[tuple[float, str, MegolmEvent]] = []
        self._withheld: dict[str, str] = {}  # megolm session id -> "withheld code: reason"
        self._reasons_logged: set[str] = set()  # session ids whose failure was logged
        self._asked_resend: dict[str, float] = {}  # room id -> when we last asked to resend

    async def keep(self, room_id: str, event: MegolmEvent) -> None:
        """The key may arrive in a later sync; ask for it and keep the event for a while."""
        self._pending.append((time.monotonic(), room_id, event))
        with contextlib.suppress(Exception):  # already requested, or no session info
            await self.session.nio.request_room_key(event)

    def note_withheld(self, to_device_events: list[object]) -> None:
        """Remember why a sender's client refused us a room key (nio ignores these)."""
        for ev in to_device_events:
            if getattr(ev, "type", None) not in WITHHELD_TYPES:
                continue
            content = (getattr(ev, "source", None) or {}).get("content") or {}
            session_id = content.get("session_id")
            if isinstance(session_id, str):
                self._withheld[session_id] = f"withheld {content.get('code')}: {content.get('reason', '')}".strip()

    async def retry(self, sink: EventSink) -> None:
        pending, self._pending = self._pending, []
        now = time.monotonic()
        for since, room_id, enc in pending:
            enc.room_id = room_id
            try:
                decrypted = self.session.nio.decrypt_event(enc)
            except Exception:  # nio raises EncryptionError while the key is missing
                decrypted = None
            if decrypted is None or isinstance(decrypted, MegolmEvent) or not hasattr(decrypted, "source"):
                waited = now - since
                if waited >= self.notice_after_s:
                    reason = self._log_once(room_id, enc)
                    await self._ask_resend(room_id, enc, reason, sink)
                if waited < GIVE_UP_AFTER_S:
                    self._pending.append((since, room_id, enc))
                continue
            await sink(safe_convert(decrypted.source, room_id, encrypted=True))

    def _log_once(self, room_id: str, enc: MegolmEvent) -> str:
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
