"""diabot.privacy: one export and one erase over every registered part (real
SQLite, the real outbox and ledger, a fake transport at the Matrix edge)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from diabot.i18n import Catalog
from diabot.language import LanguageResolver
from diabot.outbox import Outbox
from diabot.privacy import ErasureReason, Privacy
from diabot.sending import UnitOfWork
from diabot.storage import Database
from diabot.storage.models import ErasureLog, OutboxMessage, SentEvent, UserSetting, utcnow

ANNA = "@anna:example.org"


class Transport:
    """The Matrix edge: records what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []

    async def send(self, room_id: str, event_type: str, content: dict, txn_id: str) -> str:
        self.sent.append((room_id, event_type, content))
        return f"$sent{len(self.sent)}"


@pytest.fixture
async def env(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    await db.migrate()
    transport = Transport()
    outbox = Outbox(db, transport, max_retry_wait_s=0.05)
    privacy = Privacy(tmp_path)
    services = SimpleNamespace(db=db, outbox=outbox, languages=LanguageResolver("en"), i18n=Catalog(), privacy=privacy)
    yield SimpleNamespace(db=db, outbox=outbox, transport=transport, privacy=privacy, services=services)
    await outbox.stop()
    await db.close()


async def sent_message(env, room_id: str, event_id: str) -> int:
    """A message the bot sent earlier (delivered: its text is gone, its event id kept)."""
    async with env.db.transaction() as session:
        row = OutboxMessage(
            txn_id=f"t-{event_id}",
            room_id=room_id,
            event_type="m.room.message",
            content={},
            attempts=1,
            sent_event_id=event_id,
            sent_at=utcnow(),
        )
        session.add(row)
    return row.id


async def test_export_merges_every_part(env):
    async def export_a(session, user_id):
        return {"a": user_id}

    async def export_nothing(session, user_id):
        return None

    async def erase(session, user_id):
        return None

    env.privacy.register("first", export_a, erase)
    env.privacy.register("empty", export_nothing, erase)
    async with env.db.transaction() as session:
        session.add(UserSetting(user_id=ANNA, language="nl"))
    async with env.db.sessions() as session:
        data = await env.privacy.export(session, ANNA)
    # The core's part (settings) and the plugin's; a part with nothing about her is left out.
    assert data == {"user_id": ANNA, "settings": {"language": "nl"}, "first": {"a": ANNA}}


async def test_a_part_cannot_be_registered_twice(env):
    async def nothing(session, user_id):
        return None

    env.privacy.register("members", nothing, nothing)
    with pytest.raises(ValueError, match="twice"):
        env.privacy.register("members", nothing, nothing)


async def test_erase_calls_every_part_in_reverse_order_and_logs_the_reason(env):
    calls: list[str] = []

    def eraser(name):
        async def erase(session, user_id):
            # The core's settings are still there when a plugin erases (core tables go last).
            assert await session.get(UserSetting, user_id) is not None
            calls.append(f"{name}:{user_id}")

        return erase

    async def nothing(session, user_id):
        return None

    for name in ("members", "translation", "events"):
        env.privacy.register(name, nothing, eraser(name))
    forgotten: list[str] = []
    env.privacy.forget_in_memory(forgotten.append)
    async with env.db.transaction() as session:
        session.add(UserSetting(user_id=ANNA, language="nl"))
    async with UnitOfWork(env.services) as uow:
        await env.privacy.erase(uow, ANNA, ErasureReason.INACTIVITY)
    assert calls == [f"events:{ANNA}", f"translation:{ANNA}", f"members:{ANNA}"]
    assert forgotten == [ANNA]
    async with env.db.sessions() as session:
        assert await session.get(UserSetting, ANNA) is None
        log = (await session.scalars(select(ErasureLog))).all()
    assert [(row.reason, row.subject_hash) for row in log] == [("inactivity", env.privacy.subject_hash(ANNA))]
    assert ANNA not in log[0].subject_hash


@pytest.mark.parametrize("reason", list(ErasureReason))
async def test_each_reason_is_recorded(env, reason):
    async with UnitOfWork(env.services) as uow:
        await env.privacy.erase(uow, ANNA, reason)
    async with env.db.sessions() as session:
        assert (await session.scalars(select(ErasureLog.reason))).all() == [reason.value]


async def test_an_erasers_redactions_and_the_ledgers_are_sent(env):
    """A plugin's eraser retracts a message it keeps track of itself; the
    ledger retracts what was recorded as naming her; an unsent message naming
    her is dropped. After the commit the redactions reach the homeserver."""
    # Running already: it reads the table at start, then only takes what it is handed after a commit.
    env.outbox.start()
    await asyncio.sleep(0.2)
    intro = await sent_message(env, "!welcome:x", "$intro")
    translation = await sent_message(env, "!energy:x", "$translation")
    other = await sent_message(env, "!energy:x", "$about-bernd")
    async with env.db.transaction() as session:
        session.add(SentEvent(outbox_id=translation, room_id="!energy:x", purpose="translate", user_id=ANNA))
        session.add(SentEvent(outbox_id=other, room_id="!energy:x", purpose="translate", user_id="@bernd:x"))
        unsent = env.outbox.queue(session, "!dm:x", {"msgtype": "m.notice", "body": f"Hello {ANNA}"})

    async def export(session, user_id):
        return None

    async def erase_intro(session, user_id):
        redaction = await env.outbox.retract(session, intro)
        return [redaction] if redaction is not None else []

    env.privacy.register("members", export, erase_intro)
    async with UnitOfWork(env.services) as uow:
        await env.privacy.erase(uow, ANNA, ErasureReason.REQUEST)
    for _ in range(100):
        if len(env.transport.sent) >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # nothing more comes
    redacted = sorted(
        content["redacts"] for _, event_type, content in env.transport.sent if event_type == "m.room.redaction"
    )
    assert redacted == ["$intro", "$translation"]
    assert len(env.transport.sent) == 2  # not the dropped message, not Bernd's translation
    async with env.db.sessions() as session:
        assert await session.get(OutboxMessage, unsent.id) is None
        assert (await session.scalars(select(SentEvent.user_id))).all() == ["@bernd:x"]


async def test_private_chat_is_what_some_part_vouches_for(env):
    async def the_dm(session, user_id, room_id):
        return room_id == "!dm:x"

    async with env.db.sessions() as session:
        assert not await env.privacy.is_private_chat(session, ANNA, "!dm:x")  # nobody vouches: no
        env.privacy.recognise_private_chat(the_dm)
        assert await env.privacy.is_private_chat(session, ANNA, "!dm:x")
        assert not await env.privacy.is_private_chat(session, ANNA, "!themed:x")
