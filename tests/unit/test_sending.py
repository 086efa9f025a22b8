"""Sending outside an event and the shapes of what is sent (pure unit: real
SQLite, fake transport): a unit of work commits domain rows and messages
together and hands them over once; a handle resolves to the event id."""

import asyncio
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from diabot.context import Context
from diabot.events import Message
from diabot.language import LanguageResolver
from diabot.outbox import FILE_EVENT, STATE_EVENT, Outbox, PermanentSendError
from diabot.sending import POLL_START, Handle, Sender, UnitOfWork
from diabot.storage import Database
from diabot.storage.models import KeyValue, OutboxMessage, UserSetting
from tests.support.services import make_services


class Transport:
    def __init__(self):
        self.sent = []  # (room, event type, content)
        self.forbidden = {"!gone:x"}

    async def send(self, room_id, event_type, content, txn_id):
        if room_id in self.forbidden:
            raise PermanentSendError("M_FORBIDDEN")
        self.sent.append((room_id, event_type, content))
        return f"$e{len(self.sent)}"


class Catalog:
    """Says which language it was asked in."""

    def t(self, lang, key, **params):
        return f"{lang}:{key}"

    def has(self, key):
        return True


def services_for(db, outbox):
    return make_services(
        db=db,
        outbox=outbox,
        i18n=Catalog(),
        languages=LanguageResolver("nl"),
        bot_user_id="@bot:x",
    )


@pytest.fixture
async def world(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await db.migrate()
    transport = Transport()
    outbox = Outbox(db, transport, max_retry_wait_s=0.05)
    notified = []
    real_notify = outbox.notify

    def notify(rows=None):
        notified.append(rows)
        real_notify(rows)

    outbox.notify = notify
    yield SimpleNamespace(
        db=db, outbox=outbox, transport=transport, services=services_for(db, outbox), notified=notified
    )
    await outbox.stop()
    await db.close()


async def until(predicate, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def count(db, model):
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


# ---- the unit of work -------------------------------------------------------------------


async def test_unit_of_work_commits_domain_rows_and_messages_together_and_hands_them_over_once(world):
    world.outbox.start()
    async with world.services.work() as uow:
        uow.session.add(KeyValue(key="job.ran", value="yes"))
        uow.notice("!r:x", "first")
        uow.text("!r:x", "second", mentions=["@anna:x"])
    assert await world.db.get_value("job.ran") == "yes"
    # One hand-over with both rows (not per message, not the table sweep).
    assert len(world.notified) == 1 and [r.content["body"] for r in world.notified[0]] == ["first", "second"]
    await until(lambda: len(world.transport.sent) == 2)
    world.outbox.notify()  # a sweep of the table finds nothing more to send
    await asyncio.sleep(0.2)
    assert [c["body"] for _, _, c in world.transport.sent] == ["first", "second"]
    assert uow.queued == []  # handed over: nothing left to hand over again


async def test_an_exception_in_the_block_sends_and_writes_nothing(world):
    world.outbox.start()
    with pytest.raises(ZeroDivisionError):
        async with world.services.work() as uow:
            uow.session.add(KeyValue(key="job.ran", value="yes"))
            uow.notice("!r:x", "must never be sent")
            await uow.session.flush()  # even rows already flushed go
            raise ZeroDivisionError
    assert world.notified == []
    assert await count(world.db, OutboxMessage) == 0
    assert await world.db.get_value("job.ran") is None
    await asyncio.sleep(0.2)
    assert world.transport.sent == []


async def test_a_unit_of_work_runs_once(world):
    uow = world.services.work()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        async with uow:
            pass


async def test_for_user_speaks_the_users_language_and_shares_the_transaction(world):
    async with world.db.transaction() as session:
        session.add(UserSetting(user_id="@jonas:x", language="de"))
    world.outbox.start()
    async with world.services.work() as uow:
        assert uow.t("hello") == "nl:hello"  # the community's default
        assert await uow.lang_of("@jonas:x") == "de"
        jonas = await uow.for_user("@jonas:x")
        assert isinstance(jonas, Sender) and jonas.t("hello") == "de:hello"
        jonas.text("!dm:x", jonas.t("hello"), mentions=["@jonas:x"])
        assert jonas.session is uow.session
    (handed_over,) = world.notified  # in the unit of work's own hand-over
    assert [r.content["body"] for r in handed_over] == ["de:hello"]
    await until(lambda: len(world.transport.sent) == 1)


# ---- handles ----------------------------------------------------------------------------


async def test_handle_resolves_to_the_event_id_once_sent(world):
    async with world.services.work() as uow:
        uow.notice("!r:x", "before")
        handle = uow.notice("!r:x", "x")
    waiting = asyncio.create_task(handle.event_id(timeout=3))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # not sent yet: the outbox is not running
    world.outbox.start()
    assert await asyncio.wait_for(waiting, 2) == "$e2"


async def test_handle_of_a_row_sent_by_an_earlier_process(world):
    world.outbox.start()
    async with world.services.work() as uow:
        handle = uow.notice("!r:x", "x")
    assert await handle.event_id(timeout=2) == "$e1"  # sent and marked
    await world.outbox.stop()
    # A new process: a new outbox that never sent it (and is not even running).
    later = Handle(Outbox(world.db, Transport()), [handle.row])
    assert await later.event_id(timeout=1) == "$e1"


async def test_handle_of_a_parked_or_withdrawn_row_is_none_at_once(world):
    world.outbox.start()
    async with world.services.work() as uow:
        parked = uow.notice("!gone:x", "x")
    t0 = time.monotonic()
    assert await parked.event_id(timeout=5) is None
    assert time.monotonic() - t0 < 2
    assert await parked.event_id(timeout=5) is None  # and from the table
    assert await world.outbox.event_id(10_000, timeout=5) is None  # no such row (withdrawn)


async def test_handle_of_a_row_withdrawn_before_sending_is_none_at_once(world):
    async with world.services.work() as uow:
        handle = uow.notice("!r:x", "Anna's words")
    waiting = asyncio.create_task(handle.event_id(timeout=5))
    await asyncio.sleep(0.1)  # registered, and the row was still queued
    async with world.db.transaction() as session:  # e.g. !forget
        await session.delete(await session.get(OutboxMessage, handle.outbox_id))
    world.outbox.start()
    await asyncio.sleep(0.1)  # its first sweep of the table is done
    t0 = time.monotonic()
    world.outbox.notify([handle.row])  # then it is handed over, withdrawn
    assert await waiting is None
    assert time.monotonic() - t0 < 2
    assert world.transport.sent == []


async def test_handle_needs_a_flushed_row(world):
    async with world.services.work() as uow:
        handle = uow.notice("!r:x", "x")
        with pytest.raises(RuntimeError):
            await handle.event_id(timeout=0.1)


async def test_a_row_handed_over_twice_is_sent_once(world):
    world.outbox.start()
    async with world.services.work() as uow:
        handle = uow.notice("!r:x", "x")
    world.outbox.notify([handle.row, handle.row])
    await asyncio.sleep(0.3)
    assert len(world.transport.sent) == 1


# ---- shapes -----------------------------------------------------------------------------


async def queued_contents(world, send):
    async with world.services.work() as uow:
        handle = send(uow)
    return [(r.event_type, r.content) for r in handle.rows]


async def test_mentions_are_explicit_and_never_the_room(world):
    [(_, text)] = await queued_contents(world, lambda s: s.text("!r:x", "hi @room and @anna", mentions=["@anna:x"]))
    assert text["msgtype"] == "m.text"
    assert text["m.mentions"] == {"user_ids": ["@anna:x"]}
    assert "@room" not in text["body"]  # defused for clients without intentional mentions
    [(_, notice)] = await queued_contents(world, lambda s: s.notice("!r:x", "@room"))
    assert notice["msgtype"] == "m.notice" and notice["m.mentions"] == {}


async def test_replies_and_threads(world):
    [(_, reply)] = await queued_contents(world, lambda s: s.notice("!r:x", "a", reply_to="$q"))
    assert reply["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
    [(_, threaded)] = await queued_contents(world, lambda s: s.text("!r:x", "a", thread="$root"))
    assert threaded["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$root"},
    }
    [(_, both)] = await queued_contents(world, lambda s: s.notice("!r:x", "a", reply_to="$q", thread="$root"))
    assert both["m.relates_to"]["is_falling_back"] is False
    assert both["m.relates_to"]["m.in_reply_to"] == {"event_id": "$q"}


async def test_edit_shape(world):
    [(event_type, content)] = await queued_contents(world, lambda s: s.edit("!r:x", "$old", "**new** text"))
    assert event_type == "m.room.message"
    new = content["m.new_content"]
    assert new["msgtype"] == "m.notice" and new["body"] == "**new** text"
    assert new["formatted_body"] == "<p><strong>new</strong> text</p>"
    assert "m.relates_to" not in new
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$old"}
    assert content["body"] == "* **new** text"
    assert content["formatted_body"] == "* <p><strong>new</strong> text</p>"
    assert content["m.mentions"] == {}  # an edit never pings again
    [(_, text_edit)] = await queued_contents(
        world, lambda s: s.edit("!r:x", "$old", "x" * 100_000, msgtype="m.text", mentions=["@anna:x"])
    )
    assert text_edit["m.new_content"]["msgtype"] == "m.text"  # one event, cut to fit
    assert text_edit["m.new_content"]["m.mentions"] == {"user_ids": ["@anna:x"]}
    assert text_edit["m.mentions"] == {}


async def test_poll_shape(world):
    [(event_type, content)] = await queued_contents(
        world, lambda s: s.poll("!r:x", "Lunch?", ["Pizza", "Soup"], max_selections=2, disclosed=False)
    )
    assert event_type == POLL_START == "org.matrix.msc3381.poll.start"
    assert content == {
        "org.matrix.msc1767.text": "Lunch?\n1. Pizza\n2. Soup",
        "org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.undisclosed",
            "max_selections": 2,
            "question": {"org.matrix.msc1767.text": "Lunch?", "body": "Lunch?", "msgtype": "m.text"},
            "answers": [
                {"id": "1", "org.matrix.msc1767.text": "Pizza"},
                {"id": "2", "org.matrix.msc1767.text": "Soup"},
            ],
        },
        "m.mentions": {},
    }
    [(_, disclosed)] = await queued_contents(world, lambda s: s.poll("!r:x", "Q", ["a", "b"]))
    assert disclosed[POLL_START]["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert disclosed[POLL_START]["max_selections"] == 1


@pytest.mark.parametrize(
    ("answers", "max_selections"),
    [(["only"], 1), ([str(i) for i in range(21)], 1), (["a", "b" * 341], 1), (["a", "b"], 3), (["a", "b"], 0)],
)
async def test_poll_limits(world, answers, max_selections):
    async with world.services.work() as uow:
        with pytest.raises(ValueError):
            uow.poll("!r:x", "Q", answers, max_selections=max_selections)
    assert await count(world.db, OutboxMessage) == 0


async def test_poll_limits_inclusive(world):
    await queued_contents(world, lambda s: s.poll("!r:x", "Q", [str(i) for i in range(20)], max_selections=20))
    await queued_contents(world, lambda s: s.poll("!r:x", "Q", ["a", "b" * 340]))


async def test_other_event_types(world):
    async def one(send):
        [(event_type, content)] = await queued_contents(world, send)
        return event_type, content

    assert await one(lambda s: s.react("!r:x", "$m", "✅")) == (
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$m", "key": "✅"}},
    )
    assert await one(lambda s: s.redact("!r:x", "$m")) == ("m.room.redaction", {"redacts": "$m"})
    assert await one(lambda s: s.redact("!r:x", "$m", "spam")) == (
        "m.room.redaction",
        {"redacts": "$m", "reason": "spam"},
    )
    assert await one(lambda s: s.state("!r:x", "m.room.topic", {"topic": "T"})) == (
        STATE_EVENT,
        {"type": "m.room.topic", "state_key": "", "content": {"topic": "T"}},
    )
    assert await one(lambda s: s.file("!r:x", "a.json", "{}", "application/json")) == (
        FILE_EVENT,
        {"filename": "a.json", "mimetype": "application/json", "text": "{}"},
    )
    assert await one(lambda s: s.raw("!r:x", "org.example", {"k": 1})) == ("org.example", {"k": 1})


async def test_a_long_message_is_several_parts_and_its_handle_is_the_first(world):
    world.outbox.start()
    paragraphs = "\n\n".join(f"paragraph {i} " + "x" * 900 for i in range(30))
    async with world.services.work() as uow:
        handle = uow.notice("!r:x", paragraphs)
    assert len(handle.rows) > 1 and handle.row is handle.rows[0]
    await until(lambda: len(world.transport.sent) == len(handle.rows))
    assert await handle.event_id(timeout=1) == "$e1"
    assert world.transport.sent[0][2]["body"].startswith("paragraph 0 ")


# ---- Context is a Sender bound to the event ---------------------------------------------


async def test_context_replies_as_before_and_sends_like_a_unit_of_work(world):
    event = Message(
        event_id="$cmd",
        room_id="!r:x",
        sender="@anna:x",
        ts=1,
        type="m.room.message",
        content={"msgtype": "m.text", "body": "!x", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}},
        body="!x",
    )
    async with world.db.transaction() as session:
        ctx = Context(event, session, "de", world.services)
        assert isinstance(ctx, Sender)
        handle = ctx.reply("core.ping.pong")
        ctx.react(ctx.room_id, "$cmd", "👍")
        ctx.send_markdown("!other:x", "plain", relates_to={"m.in_reply_to": {"event_id": "$q"}})
    reply, reaction, plain = ctx.queued
    assert handle.row is reply
    assert reply.content["msgtype"] == "m.notice" and reply.content["body"] == "de:core.ping.pong"
    assert reply.content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$cmd"},
    }
    assert reaction.event_type == "m.reaction"
    assert plain.room_id == "!other:x" and plain.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
    assert ctx.ledger.session is session and ctx.ledger.queued is ctx.queued


def test_unit_of_work_is_what_services_work_gives(world):
    assert isinstance(world.services.work(), UnitOfWork)


async def test_contents_made_elsewhere_are_one_message(world):
    world.outbox.start()
    async with world.services.work() as uow:
        handle = uow.send_contents("!r:x", [{"msgtype": "m.notice", "body": "1"}, {"msgtype": "m.notice", "body": "2"}])
        uow.send_markdown("!r:x", "3", relates_to={"m.in_reply_to": {"event_id": "$q"}})
    assert [r.content["body"] for r in handle.rows] == ["1", "2"]
    await until(lambda: len(world.transport.sent) == 3)
    assert await handle.event_id(timeout=1) == "$e1"
    assert world.transport.sent[2][2]["m.relates_to"] == {"m.in_reply_to": {"event_id": "$q"}}
