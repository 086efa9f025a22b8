"""The ledger of what the bot sent about what, on SQLite and PostgreSQL:
records commit with the messages (no flush needed), find joins the event id,
retract redacts what was sent and drops what was not, forget_user erases."""

import asyncio
import time

import pytest
from sqlalchemy import func, select

from diabot.language import LanguageResolver
from diabot.ledger import Ledger
from diabot.outbox import Outbox
from diabot.storage import Database
from diabot.storage.models import OutboxMessage, SentEvent
from tests.support.services import make_services


class Transport:
    def __init__(self):
        self.sent = []

    async def send(self, room_id, event_type, content, txn_id):
        self.sent.append((room_id, event_type, content))
        return f"$e{len(self.sent)}"


class Catalog:
    def t(self, lang, key, **params):
        return key

    def has(self, key):
        return True


@pytest.fixture
async def world(db_url):
    db = Database(db_url)
    await db.migrate()
    transport = Transport()
    outbox = Outbox(db, transport, max_retry_wait_s=0.05)
    services = make_services(
        db=db,
        outbox=outbox,
        i18n=Catalog(),
        languages=LanguageResolver("en"),
        bot_user_id="@bot:x",
    )
    yield services, transport
    await outbox.stop()
    await db.close()


async def until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def delivered(*handles):
    """Every part sent and marked (the transport's list alone races the marking)."""
    for handle in handles:
        for row in handle.rows:
            assert await handle._outbox.event_id(row.id, timeout=3) is not None


async def ledger_rows(db):
    async with db.sessions() as session:
        return (await session.scalars(select(SentEvent).order_by(SentEvent.id))).all()


async def test_records_commit_with_their_messages_without_a_flush(world):
    services, _ = world
    async with services.work() as uow:
        intro = uow.notice("!r:x", "Anna from Bakkerij")
        uow.ledger.record(intro, "members.intro", subject="@anna:x", user_id="@anna:x")
    (entry,) = await ledger_rows(services.db)
    assert entry.outbox_id == intro.outbox_id  # the row's real id, filled in at the flush
    assert (entry.room_id, entry.purpose, entry.subject, entry.user_id) == (
        "!r:x",
        "members.intro",
        "@anna:x",
        "@anna:x",
    )


async def test_nothing_is_recorded_when_the_block_fails(world):
    services, _ = world
    with pytest.raises(ZeroDivisionError):
        async with services.work() as uow:
            uow.ledger.record(uow.notice("!r:x", "x"), "p")
            raise ZeroDivisionError
    assert await ledger_rows(services.db) == []


async def test_find_in_the_same_transaction_and_after_sending(world):
    services, _ = world
    async with services.work() as uow:
        de = uow.notice("!r:x", "Übersetzung")
        en = uow.notice("!r:x", "translation")
        uow.ledger.record(de, "translate.translation", subject="$src", user_id="@anna:x", detail="de")
        uow.ledger.record(en, "translate.translation", subject="$src", user_id="@anna:x", detail="en")
        other = uow.notice("!r:x", "other")
        uow.ledger.record(other, "translate.translation", subject="$other", detail="de")
        # Found before the commit (recorded rows are flushed first), not sent yet.
        found = await uow.ledger.find("translate.translation", subject="$src")
        assert [(e.detail, e.event_id) for e in found] == [("de", None), ("en", None)]
    services.outbox.start()
    await delivered(de, en, other)
    async with services.work() as uow:
        ledger = uow.ledger
        assert [e.event_id for e in await ledger.find("translate.translation", subject="$src")] == ["$e1", "$e2"]
        assert [e.outbox_id for e in await ledger.find(detail="en")] == [en.outbox_id]
        assert [e.subject for e in await ledger.find(user_id="@anna:x", detail="de")] == ["$src"]
        assert [e.detail for e in await ledger.find(event_id="$e2")] == ["en"]
        assert await ledger.find("translate.translation", subject="$nothing") == []
        assert await ledger.find("members.intro") == []


async def test_retract_redacts_what_was_sent_and_drops_what_was_not(world):
    services, transport = world
    async with services.work() as uow:
        sent = uow.notice("!r:x", "sent")
        uow.ledger.record(sent, "translate.translation", subject="$src")
    services.outbox.start()
    assert await sent.event_id(timeout=3) == "$e1"  # sent and marked
    await services.outbox.stop()  # the next one stays unsent
    async with services.work() as uow:
        unsent = uow.notice("!r:x", "unsent")
        uow.ledger.record(unsent, "translate.translation", subject="$src")
    async with services.work() as uow:
        redactions = await uow.ledger.retract(await uow.ledger.find(subject="$src"))
        assert [r.content for r in redactions] == [{"redacts": "$e1"}]
        assert uow.queued == redactions  # handed to the outbox after the commit
    assert await ledger_rows(services.db) == []
    services.outbox.start()
    await until(lambda: len(transport.sent) == 2)
    await asyncio.sleep(0.2)
    assert [(t, c.get("body"), c.get("redacts")) for _, t, c in transport.sent] == [
        ("m.room.message", "sent", None),
        ("m.room.redaction", None, "$e1"),
    ]
    async with services.db.sessions() as session:
        assert await session.get(OutboxMessage, unsent.outbox_id) is None  # never sent


async def test_every_part_of_a_long_message_is_recorded_and_retracted(world):
    services, transport = world
    long = "\n\n".join(f"part {i} " + "y" * 900 for i in range(30))
    async with services.work() as uow:
        handle = uow.notice("!r:x", long)
        uow.ledger.record(handle, "members.list", user_id="@anna:x")
    assert len(handle.rows) > 1
    services.outbox.start()
    await delivered(handle)
    async with services.work() as uow:
        entries = await uow.ledger.find("members.list")
        assert [e.outbox_id for e in entries] == [r.id for r in handle.rows]  # in order: the first is the head
        redactions = await uow.ledger.forget_user("@anna:x")
    assert len(redactions) == len(handle.rows)
    await until(lambda: len(transport.sent) == 2 * len(handle.rows))


async def test_forget_user_takes_back_what_names_them_and_only_that(world):
    services, transport = world
    async with services.work() as uow:
        both = uow.notice("!r:x", "Anna and Ben")  # one event naming two members
        uow.ledger.record(both, "members.find", user_id="@anna:x")
        uow.ledger.record(both, "members.find", user_id="@ben:x")
        ben = uow.notice("!r:x", "Ben alone")
        uow.ledger.record(ben, "members.intro", user_id="@ben:x")
    services.outbox.start()
    await delivered(both, ben)
    async with services.work() as uow:
        retracted = await uow.ledger.forget_user("@anna:x")
    assert [r.content for r in retracted] == [{"redacts": "$e1"}]
    # The event is gone for Ben too; his other entry stays.
    assert [(e.purpose, e.user_id) for e in await ledger_rows(services.db)] == [("members.intro", "@ben:x")]
    await until(lambda: len(transport.sent) == 3)


async def test_forget_drops_the_records_only(world):
    services, _ = world
    async with services.work() as uow:
        uow.ledger.record(uow.notice("!r:x", "x"), "p", subject="s")
    async with services.work() as uow:
        await uow.ledger.forget(await uow.ledger.find("p"))
        assert uow.queued == []
    assert await ledger_rows(services.db) == []
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_a_ledger_on_a_plain_session_returns_what_it_queued(world):
    """For code that is not a Sender (e.g. privacy erasure): the caller hands over the redactions."""
    services, transport = world
    async with services.work() as uow:
        handle = uow.notice("!r:x", "x")
        uow.ledger.record(handle, "p", user_id="@anna:x")
    services.outbox.start()
    await delivered(handle)
    async with services.db.transaction() as session:
        redactions = await Ledger(session, services.outbox).forget_user("@anna:x")
    assert [r.content for r in redactions] == [{"redacts": "$e1"}]
    services.outbox.notify(redactions)
    await until(lambda: len(transport.sent) == 2)


async def test_purpose_and_detail_fit_their_columns(world):
    services, _ = world
    async with services.work() as uow:
        handle = uow.notice("!r:x", "x")
        with pytest.raises(ValueError):
            uow.ledger.record(handle, "p" * 65)
        with pytest.raises(ValueError):
            uow.ledger.record(handle, "p", detail="d" * 65)
