"""Dispatcher + outbox on a real SQLite file with a fake transport (pure unit):
error boundary, exactly-once bookkeeping, language resolution, retries."""

import asyncio
from pathlib import Path

import pytest

from diabot.commands import Perm, Router, command
from diabot.dispatch import Dispatcher
from diabot.events import Message
from diabot.i18n import Catalog
from diabot.language import LanguageResolver
from diabot.metrics import Metrics
from diabot.outbox import Outbox
from diabot.permissions import Permissions
from diabot.plugin import Plugin
from diabot.privacy import Privacy
from diabot.storage import Database
from plugins.core.plugin import CorePlugin
from tests.support.services import make_services

ROOT = Path(__file__).resolve().parents[2]


class FakeTransport:
    def __init__(self):
        self.sent = []
        self.fail_next = 0
        self.txns = set()

    async def send(self, room_id, event_type, content, txn_id):
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("homeserver down")
        if txn_id in self.txns:  # the homeserver deduplicates by txn id
            return f"$dup-{txn_id}"
        self.txns.add(txn_id)
        self.sent.append((room_id, content))
        return f"$ev{len(self.sent)}"


SPACE = "!space:x"


class FakeState:
    def __init__(self):
        self.levels = {}  # (room, user) -> level
        self.creators = set()  # (room, user)
        self.members = {SPACE: {"@anna:x"}}

    def power_level(self, room_id, user_id):
        return self.levels.get((room_id, user_id), 0)

    async def is_creator(self, room_id, user_id):
        return (room_id, user_id) in self.creators

    def is_member(self, room_id, user_id):
        return user_id in self.members.get(room_id, set())

    def member_count(self, room_id):
        return 2  # anna and the bot: unknown commands are answered


class FakeDirectory:
    space_id = SPACE

    def by_slug(self, slug):
        return None


class FakeDirect:
    async def find(self, user_id):
        return None


class Boom(Plugin):
    name = "boom"

    @command("boom", help="core.ping.help")
    async def boom(self, ctx):
        ctx.reply_markdown("this must never be sent")
        raise ZeroDivisionError("bug")

    @command("modonly", help="core.ping.help", perm=Perm.MODERATOR)
    async def modonly(self, ctx):
        ctx.reply("core.ping.pong")

    @command("roommod", help="core.ping.help", perm=Perm.ROOM_MODERATOR)
    async def roommod(self, ctx):
        ctx.reply("core.ping.pong")

    @command("memberonly", help="core.ping.help")
    async def memberonly(self, ctx):
        ctx.reply("core.ping.pong")


@pytest.fixture
async def world(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await db.migrate()
    transport = FakeTransport()
    outbox = Outbox(db, transport, max_retry_wait_s=0.05)
    state = FakeState()
    router = Router("!")
    catalog = Catalog.from_dirs([ROOT / "diabot" / "locales", ROOT / "plugins" / "core" / "locales"])
    services = make_services(
        db=db,
        outbox=outbox,
        permissions=Permissions(state, FakeDirectory(), 50, ["@admin:x"]),
        i18n=catalog,
        languages=LanguageResolver("en"),
        router=router,
        bot_user_id="@bot:x",
        privacy=Privacy(tmp_path),
        direct=FakeDirect(),
        rooms=state,
    )
    dispatcher = Dispatcher(services, router, Metrics(), ignore_users=["@otherbot:x"])
    dispatcher.add_plugin(CorePlugin(services, CorePlugin.Config()))
    dispatcher.add_plugin(Boom(services, Boom.Config()))
    outbox.start()
    yield dispatcher, transport, state
    await outbox.stop()
    await db.close()


def msg(body, sender="@anna:x", event_id=None, msgtype="m.text"):
    msg.n = getattr(msg, "n", 0) + 1
    return Message(
        event_id=event_id or f"$m{msg.n}",
        room_id="!r:x",
        sender=sender,
        ts=1,
        type="m.room.message",
        content={"msgtype": msgtype, "body": body},
        body=body,
        msgtype=msgtype,
    )


async def settle(transport, count, timeout=3.0):
    for _ in range(int(timeout / 0.02)):
        if len(transport.sent) >= count:
            return
        await asyncio.sleep(0.02)


async def test_bug_gives_apology_with_trace_id_and_no_partial_output(world, caplog):
    dispatcher, transport, _ = world
    await dispatcher.dispatch(msg("!boom"))
    await settle(transport, 1)
    assert len(transport.sent) == 1
    body = transport.sent[0][1]["body"]
    assert body.startswith("Sorry") and "this must never be sent" not in body
    trace_id = body.rsplit("code ", 1)[1].rstrip(".")
    assert any(trace_id == getattr(r, "trace_id", None) and r.exc_info for r in caplog.records)
    # The bot keeps working after the bug.
    await dispatcher.dispatch(msg("!ping"))
    await settle(transport, 2)
    assert transport.sent[1][1]["body"] == "Pong!"


async def test_same_event_twice_is_handled_once(world):
    dispatcher, transport, _ = world
    event = msg("!ping", event_id="$same")
    await dispatcher.dispatch(event)
    await dispatcher.dispatch(event)
    await settle(transport, 2, timeout=0.5)
    assert len(transport.sent) == 1


async def test_ignored_senders_and_notices(world):
    """Nothing is answered and nothing is written: no handled_events row, so an
    event no handler wants costs no transaction. Fails if `_wants` says yes to all."""
    from sqlalchemy import func, select

    from diabot.storage.models import HandledEvent

    dispatcher, transport, _ = world
    await dispatcher.dispatch(msg("!ping", sender="@bot:x"))
    await dispatcher.dispatch(msg("!ping", sender="@otherbot:x"))
    await dispatcher.dispatch(msg("!ping", msgtype="m.notice"))
    await dispatcher.dispatch(msg("just chatting"))  # no plugin here has a Message handler
    await settle(transport, 1, timeout=0.3)
    assert transport.sent == []
    async with dispatcher.services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(HandledEvent)) == 0
    await dispatcher.dispatch(msg("!ping"))  # the same path does write for a command
    async with dispatcher.services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(HandledEvent)) == 1


async def test_permissions_admin_and_space_power(world):
    dispatcher, transport, state = world
    await dispatcher.dispatch(msg("!modonly"))
    await dispatcher.dispatch(msg("!modonly", sender="@admin:x"))
    state.levels[(SPACE, "@anna:x")] = 50
    await dispatcher.dispatch(msg("!modonly"))
    await settle(transport, 3)
    bodies = [c["body"] for _, c in transport.sent]
    assert bodies[0].startswith("Only moderators") and bodies[1:] == ["Pong!", "Pong!"]


async def test_power_in_the_room_typed_in_is_not_community_power(world):
    """The attack: a member is admin (or a v12 creator) of her own room or DM
    and types a community-wide command there."""
    dispatcher, transport, state = world
    state.levels[("!r:x", "@anna:x")] = 100
    state.creators.add(("!r:x", "@anna:x"))
    await dispatcher.dispatch(msg("!modonly"))
    await dispatcher.dispatch(msg("!roommod"))  # room-scoped: her own room is hers to manage
    await settle(transport, 2)
    bodies = [c["body"] for _, c in transport.sent]
    assert bodies[0].startswith("Only moderators") and bodies[1] == "Pong!"


async def test_member_commands_need_the_community_space(world):
    dispatcher, transport, _state = world
    await dispatcher.dispatch(msg("!memberonly", sender="@stranger:x"))
    await dispatcher.dispatch(msg("!memberonly"))  # anna is in the space
    await dispatcher.dispatch(msg("!ping", sender="@stranger:x"))  # help and ping are for anyone
    await settle(transport, 3)
    bodies = [c["body"] for _, c in transport.sent]
    assert "members" in bodies[0] and bodies[1:] == ["Pong!", "Pong!"]


async def test_language_choice_applies_to_errors(world):
    dispatcher, transport, _ = world
    await dispatcher.dispatch(msg("!taal nl"))
    await dispatcher.dispatch(msg("!taal xx"))
    await dispatcher.dispatch(msg("!onbekend"))
    await settle(transport, 3)
    bodies = [c["body"] for _, c in transport.sent]
    assert "Nederlands" in bodies[0]
    assert "kan niet voor" in bodies[1] and "!taal [nl|de|en]" in bodies[1]
    assert "ken ik niet" in bodies[2]


async def test_outbox_retries_until_the_homeserver_is_back(world):
    dispatcher, transport, _ = world
    transport.fail_next = 3
    await dispatcher.dispatch(msg("!ping"))
    await settle(transport, 1)
    assert [c["body"] for _, c in transport.sent] == ["Pong!"]


async def test_one_user_hitting_the_command_limit_gets_one_answer_and_others_are_unaffected(world):
    from diabot.ratelimit import RateLimits

    dispatcher, transport, _ = world
    limits = RateLimits({"commands": "3/minute"}, exempt=frozenset({"@admin:x"}))
    object.__setattr__(dispatcher.services, "limits", limits)  # frozen dataclass: tests swap the service
    for _ in range(6):
        await dispatcher.dispatch(msg("!ping"))
    await dispatcher.dispatch(msg("!ping", sender="@bernd:x"))
    for _ in range(5):
        await dispatcher.dispatch(msg("!ping", sender="@admin:x"))
    await settle(transport, 10)
    bodies = [c["body"] for _, c in transport.sent]
    assert bodies[:4] == [
        "Pong!",
        "Pong!",
        "Pong!",
        "You are sending me a lot of commands at once. I will answer again in a minute.",
    ]
    assert bodies[4:] == ["Pong!"] * 6  # bernd's one and the admin's five


async def test_unusable_and_unhandleable_events_are_counted_marked_handled_and_skipped(world, monkeypatch):
    from diabot.events import Unusable
    from diabot.storage.models import HandledEvent

    dispatcher, transport, _ = world
    await dispatcher.dispatch(Unusable(event_id="$bad", room_id="!r:x", reason="content is not an object"))

    async def broken_context(event, session):  # a failure outside the error boundary
        raise ValueError("bug before the boundary")

    monkeypatch.setattr(dispatcher, "_context", broken_context)
    await dispatcher.dispatch(msg("!ping", event_id="$boom"))  # must not raise: the batch goes on
    monkeypatch.undo()
    await dispatcher.dispatch(msg("!ping"))
    await settle(transport, 1)
    assert [c["body"] for _, c in transport.sent] == ["Pong!"]
    assert dispatcher.metrics.unusable_events._value.get() == 2
    async with dispatcher.services.db.sessions() as session:
        assert await session.get(HandledEvent, "$bad") is not None
        assert await session.get(HandledEvent, "$boom") is not None
