"""Transactional outbox: what the bot says is written to the database in the
same transaction as the event that caused it, then delivered by one worker.

A crash after the commit but before the send: the worker sends it at start.
A crash after the send but before it is marked: the resend reuses the
transaction id and the homeserver returns the first event instead of a copy.
Homeserver down: the row stays pending and is retried; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .storage import Database
from .storage.models import OutboxMessage, utcnow
from .tasks import cancel_and_wait

log = logging.getLogger(__name__)


# Pseudo event types the transport turns into actions, in queue order.
FILE_EVENT = "diabot.file"  # upload content["text"] (or base64 "base64") as a file, then send m.file/m.image
LEAVE_EVENT = "diabot.leave"  # leave the room (after what was queued before)
# Put a state event: content = {"type": ..., "state_key": ..., "content": {...}}.
STATE_EVENT = "diabot.state"


class PermanentSendError(Exception):
    """The homeserver refused for good (not in room, forbidden, too large)."""


class Transport(Protocol):
    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        """Return the event id; raise PermanentSendError or anything (= retry)."""
        ...


class Outbox:
    # Transient failures (homeserver down) are retried for about an hour at
    # the default pace before a message is given up.
    MAX_ATTEMPTS = 1200

    def __init__(self, db: Database, transport: Transport | None = None, max_retry_wait_s: float = 3.0, metrics=None):
        self.db = db
        self.transport = transport
        self.max_retry_wait_s = max_retry_wait_s
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._ready: list[OutboxMessage] = []
        self._reread = False
        # Ids delivered by this process: a row can be both in the table read
        # and in _ready when a commit races the read.
        self._done: set[int] = set()
        self._retry_at: dict[str, float] = {}  # room id -> monotonic time of its next attempt
        # Handles awaiting a row's delivery (row id -> futures of its event id; None = never sent).
        self._waiters: dict[int, set[asyncio.Future[str | None]]] = {}
        # Rows deleted by some transaction of this process (e.g. !forget), which
        # may or may not have committed: only these are looked up before a send.
        # Every other row goes out without a database round trip; a row withdrawn
        # while it is being sent is redacted at once (see _deliver).
        self._maybe_withdrawn: set[int] = set()
        db.before_deleting(OutboxMessage, self._note_withdrawal)

    def _note_withdrawal(self, row: object) -> None:
        row_id = getattr(row, "id", None)
        if row_id is not None and row_id not in self._done:  # a sent row's receipt going is no withdrawal
            self._maybe_withdrawn.add(row_id)

    def queue(
        self, session: AsyncSession, room_id: str, content: dict, event_type: str = "m.room.message"
    ) -> OutboxMessage:
        row = OutboxMessage(
            txn_id=f"diabot-{uuid.uuid4().hex}", room_id=room_id, event_type=event_type, content=content, attempts=0
        )
        session.add(row)
        return row

    async def retract(self, session: AsyncSession, outbox_id: int) -> OutboxMessage | None:
        """Take back what the bot said: redact it if it was sent (returns the
        queued redaction), delete it if not (then it is never sent)."""
        row = await session.get(OutboxMessage, outbox_id)
        if row is None:
            return None
        if row.sent_event_id:
            return self.queue(session, row.room_id, {"redacts": row.sent_event_id}, event_type="m.room.redaction")
        await session.delete(row)
        return None

    def notify(self, rows: list[OutboxMessage] | None = None) -> None:
        """Call after the commit that queued `rows`: they are handed to the
        worker directly, sparing it a database round trip. Without rows the
        worker reads the table (for code that queued without keeping them)."""
        if rows is None:
            self._reread = True
        else:
            self._ready.extend(rows)
        self._wake.set()

    # A timeout parameter (ASYNC109) on purpose: running out of time is an answer (None), not an error.
    async def event_id(self, row_id: int, timeout: float | None = None) -> str | None:  # noqa: ASYNC109
        """The Matrix event id of a committed row once it is sent; None if it
        was parked, withdrawn, has no event (a leave) or `timeout` passed.

        Waits on a future the delivery loop resolves; the table is read after
        the future is registered, so a row sent before (even by an earlier
        process) or meanwhile is not missed."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(row_id, set()).add(future)
        try:
            async with self.db.sessions() as session:
                row = await session.get(OutboxMessage, row_id)
            if row is None:
                return None
            if row.sent_at is not None:
                return row.sent_event_id or None
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                return None
        finally:
            waiting = self._waiters.get(row_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[row_id]

    def _resolve(self, row_id: int, event_id: str | None) -> None:
        for future in self._waiters.pop(row_id, ()):
            if not future.done():
                future.set_result(event_id or None)

    async def pending_count(self) -> int:
        async with self.db.sessions() as session:
            return (
                await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                )
                or 0
            )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        # The database is read at start (rows left by a crash) and after a
        # failed send; otherwise rows come straight from notify(). A room whose
        # sends fail waits on its own back-off; the other rooms go on (order is
        # kept per room, never across rooms).
        from_db = True
        while True:
            self._wake.clear()
            if self._reread:
                from_db, self._reread = True, False
            now = time.monotonic()
            due_again = [room for room, at in self._retry_at.items() if at <= now]
            if due_again:
                from_db = True  # a room's back-off is over: its rows are only in the table
                for room in due_again:
                    del self._retry_at[room]
            waiting = set(self._retry_at)
            if from_db:
                self._ready.clear()  # whatever was committed is in the table
                query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                if waiting:
                    query = query.where(OutboxMessage.room_id.not_in(waiting))
                async with self.db.sessions() as session:
                    rows = list((await session.scalars(query.order_by(OutboxMessage.id).limit(200))).all())
                from_db = len(rows) == 200
            else:
                # A row may be handed over twice (e.g. a retraction returned and also queued): once is enough.
                rows = sorted({r.id: r for r in self._ready}.values(), key=lambda r: r.id)
                self._ready.clear()
                if any(r.room_id in waiting for r in rows):
                    from_db = True  # read again from the table when their room's back-off is over
                rows = [r for r in rows if r.room_id not in waiting]
            rows = [r for r in rows if r.id not in self._done]
            if not rows:
                if not self._ready:
                    pending = [at - now for at in self._retry_at.values() if at > now]
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=min([60.0, *pending]))
                    except TimeoutError:
                        from_db = True  # a back-off is over (or belt and braces)
                continue
            if not await self._deliver(rows):
                from_db = True

    async def _deliver(self, rows: list[OutboxMessage]) -> bool:
        """False when a send failed and should be retried later."""
        transport = self.transport
        assert transport is not None, "an outbox without a transport only queues"
        blocked: set[str] = set()
        for row in rows:
            if row.room_id in blocked:
                continue  # keep this room's order: its earlier message failed
            if row.id in self._maybe_withdrawn and not await self._still_queued(row.id):
                self._maybe_withdrawn.discard(row.id)
                self._resolve(row.id, None)
                continue  # withdrawn meanwhile (e.g. !forget): never send it
            try:
                event_id = await transport.send(row.room_id, row.event_type, row.content, row.txn_id)
            except PermanentSendError as exc:
                log.warning(
                    "outbox: parked a message that cannot be sent", extra={"room_id": row.room_id, "error": str(exc)}
                )
                await self._mark(row.id, error=str(exc)[:500], done=True)
                if self.metrics:
                    self.metrics.outbox_parked.inc()
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempts = row.attempts + 1
                give_up = attempts >= self.MAX_ATTEMPTS
                log.warning(
                    "outbox: send failed, will retry",
                    extra={"room_id": row.room_id, "attempt": attempts, "error": repr(exc)[:300]},
                )
                await self._mark(row.id, error=repr(exc)[:500], done=give_up, attempts=attempts)
                if give_up and self.metrics:
                    self.metrics.outbox_parked.inc()
                blocked.add(row.room_id)
                self._retry_at[row.room_id] = time.monotonic() + min(
                    self.max_retry_wait_s, 0.25 * 2 ** min(attempts, 6)
                )
                continue
            self._retry_at.pop(row.room_id, None)
            if (
                not await self._mark(row.id, event_id=event_id, done=True)
                and event_id
                and row.event_type != "m.room.redaction"
            ):
                # Withdrawn while it was being sent: take it back at once, no record remains to do it later.
                try:
                    await transport.send(
                        row.room_id, "m.room.redaction", {"redacts": event_id}, f"{row.txn_id}-withdrawn"
                    )
                except Exception as exc:
                    log.warning(
                        "outbox: could not redact a withdrawn message",
                        extra={"room_id": row.room_id, "error": repr(exc)[:300]},
                    )
                continue
            if self.metrics:
                self.metrics.messages_sent.inc()
        return not blocked

    async def _still_queued(self, row_id: int) -> bool:
        async with self.db.sessions() as session:
            return await session.scalar(select(OutboxMessage.id).where(OutboxMessage.id == row_id)) is not None

    async def _mark(
        self,
        row_id: int,
        *,
        done: bool,
        event_id: str | None = None,
        error: str | None = None,
        attempts: int | None = None,
    ) -> bool:
        """False if the row no longer exists."""
        values: dict = {"error": error}
        if done:
            # Delivered or given up: the text is not needed any more (privacy);
            # the event id stays for edits and redactions.
            values["content"] = {}
            if len(self._done) > 50_000:
                self._done.clear()
            self._done.add(row_id)
            self._maybe_withdrawn.discard(row_id)
            values["sent_at"] = utcnow()
        if event_id:
            values["sent_event_id"] = event_id
        if attempts is not None:
            values["attempts"] = attempts
        async with self.db.transaction() as session:
            marked = await session.scalar(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values).returning(OutboxMessage.id)
            )
        if done:
            # Withdrawn while sending (no row left): it is redacted at once, so no handle gets its id.
            self._resolve(row_id, event_id if marked is not None else None)
        return marked is not None
