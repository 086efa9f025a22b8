"""A message withdrawn from the outbox (e.g. by !forget) is never posted, and
one withdrawn while it was being sent is redacted at once (pure unit: real
SQLite, fake transport)."""

import asyncio

from sqlalchemy import delete

from diabot.outbox import Outbox
from diabot.storage import Database
from diabot.storage.models import OutboxMessage


class Transport:
    def __init__(self, db):
        self.db = db
        self.sent = []
        self.withdraw_during_send = False

    async def send(self, room_id, event_type, content, txn_id):
        self.sent.append((event_type, content))
        if self.withdraw_during_send and event_type == "m.room.message":
            async with self.db.transaction() as session:
                await session.execute(delete(OutboxMessage))
        return f"$e{len(self.sent)}"


async def run_outbox(tmp_path, withdraw_before: bool, withdraw_during: bool):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await db.migrate()
    transport = Transport(db)
    transport.withdraw_during_send = withdraw_during
    outbox = Outbox(db, transport, max_retry_wait_s=0.05)
    async with db.transaction() as session:
        row = outbox.queue(session, "!r:x", {"msgtype": "m.text", "body": "Anna's words"})
    if withdraw_before:
        async with db.transaction() as session:
            await session.execute(delete(OutboxMessage).where(OutboxMessage.id == row.id))
    outbox.notify([row])
    outbox.start()
    await asyncio.sleep(0.5)
    await outbox.stop()
    await db.close()
    return transport.sent


async def test_withdrawn_before_sending_is_never_sent(tmp_path):
    assert await run_outbox(tmp_path, withdraw_before=True, withdraw_during=False) == []


async def test_withdrawn_while_sending_is_redacted_at_once(tmp_path):
    sent = await run_outbox(tmp_path, withdraw_before=False, withdraw_during=True)
    assert [t for t, _ in sent] == ["m.room.message", "m.room.redaction"]
    assert sent[1][1] == {"redacts": "$e1"}
