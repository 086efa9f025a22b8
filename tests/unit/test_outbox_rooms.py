"""One room whose messages cannot be sent does not hold up the others; order
is kept per room; a message that can never be sent is parked and counted
(pure unit: real SQLite, fake transport)."""

import asyncio
import time

from diabot.metrics import Metrics
from diabot.outbox import Outbox, PermanentSendError
from diabot.storage import Database


class Transport:
    def __init__(self):
        self.sent = []  # (room, body, monotonic time)
        self.down = {"!down:x"}  # transient failures (e.g. not joined yet, 5xx)

    async def send(self, room_id, event_type, content, txn_id):
        if room_id in self.down:
            raise RuntimeError("No such room")
        if room_id == "!gone:x":
            raise PermanentSendError("M_FORBIDDEN")
        self.sent.append((room_id, content["body"], time.monotonic()))
        return f"$e{len(self.sent)}"


async def test_a_failing_room_does_not_stall_the_others_and_keeps_its_order(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    await db.migrate()
    transport, metrics = Transport(), Metrics()
    outbox = Outbox(db, transport, max_retry_wait_s=0.5, metrics=metrics)
    outbox.start()
    rows = []
    async with db.transaction() as session:
        for i in range(3):
            rows.append(outbox.queue(session, "!down:x", {"body": f"down {i}"}))
        rows.append(outbox.queue(session, "!gone:x", {"body": "gone"}))
    outbox.notify(rows)
    await asyncio.sleep(0.3)
    t0 = time.monotonic()
    for i in range(5):  # replies in a healthy room while the other keeps failing
        async with db.transaction() as session:
            row = outbox.queue(session, "!ok:x", {"body": f"ok {i}"})
        outbox.notify([row])
        await asyncio.sleep(0.2)
    assert [b for r, b, _ in transport.sent if r == "!ok:x"] == [f"ok {i}" for i in range(5)]
    assert max(t for r, _, t in transport.sent) - t0 < 1.5  # each went out at once, no global back-off
    transport.down.clear()  # the room comes back: its messages follow, in order
    for _ in range(40):
        if len([1 for r, _, _ in transport.sent if r == "!down:x"]) == 3:
            break
        await asyncio.sleep(0.1)
    assert [b for r, b, _ in transport.sent if r == "!down:x"] == ["down 0", "down 1", "down 2"]
    assert metrics.outbox_parked._value.get() == 1  # the forbidden one
    await outbox.stop()
    await db.close()
