"""Handlers by event class, Matrix event type and reaction key; transient
failures of passive handlers deferred and retried; date arguments through
the dispatcher. SQLite file, outbox not started (queued rows are counted)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from diabot.commands import Arg, Perm, Router, command, on
from diabot.dates import WHEN
from diabot.dispatch import Dispatcher
from diabot.errors import TransientError
from diabot.events import Message, Reaction, RoomEvent
from diabot.i18n import Catalog
from diabot.language import LanguageResolver
from diabot.matrix.convert import convert
from diabot.metrics import Metrics
from diabot.outbox import Outbox
from diabot.plugin import Plugin
from diabot.storage import Database
from diabot.storage.models import DeferredEvent, HandledEvent, OutboxMessage
from tests.support.services import make_services

ROOT = Path(__file__).resolve().parents[2]
POLL_TYPES = ("m.poll.response", "org.matrix.msc3381.poll.response")


class Everyone:
    async def allows(self, perm, room_id, user_id):
        return True


class Recorder(Plugin):
    name = "recorder"

    def __init__(self, services, config):
        super().__init__(services, config)
        self.seen: list[tuple[str, str]] = []
        self.fail_next = 0  # TransientErrors still to raise
        self.fail_with: type[BaseException] = TransientError

    @on(Reaction, key="✅")
    async def done(self, ctx, event):
        self.seen.append(("done", event.event_id))

    @on(Reaction)
    async def any_reaction(self, ctx, event):
        self.seen.append(("reaction", event.event_id))

    @on(*POLL_TYPES)
    async def vote(self, ctx, event):
        assert type(event) is RoomEvent and event.type in POLL_TYPES
        ctx.reply_markdown("vote counted")  # queued, so a failure must roll it back
        if self.fail_next:
            self.fail_next -= 1
            raise self.fail_with("homeserver says 502")
        self.seen.append(("vote", event.event_id))

    @command("remind", help="core.ping.help", perm=Perm.ANYONE, args=(Arg("when", rest=True, type=WHEN),))
    async def remind(self, ctx, when):
        self.seen.append(("remind", when.isoformat()))

    @command("busy", help="core.ping.help", perm=Perm.ANYONE)
    async def busy(self, ctx):
        raise TransientError("502")


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # Wed 20:00 in Amsterdam

    def __call__(self):
        return self.now


@pytest.fixture
async def world(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await db.migrate()
    router = Router("!")
    services = make_services(
        db=db,
        outbox=Outbox(db),
        permissions=Everyone(),
        i18n=Catalog.from_dirs([ROOT / "diabot" / "locales", ROOT / "plugins" / "core" / "locales"]),
        languages=LanguageResolver("en"),
        router=router,
        bot_user_id="@bot:x",
    )
    clock = Clock()
    dispatcher = Dispatcher(services, router, Metrics(), ignore_users=[], clock=clock)
    recorder = Recorder(services, Recorder.Config())
    dispatcher.add_plugin(recorder)
    yield dispatcher, recorder, clock
    await db.close()


def reaction(key, event_id):
    source = {
        "event_id": event_id,
        "sender": "@anna:x",
        "type": "m.reaction",
        "origin_server_ts": 1,
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$target", "key": key}},
    }
    return convert(source, "!r:x", encrypted=False)


def room_event(etype, event_id):
    source = {"event_id": event_id, "sender": "@anna:x", "type": etype, "origin_server_ts": 1, "content": {"x": 1}}
    return convert(source, "!r:x", encrypted=True)


def message(body, event_id):
    return Message(event_id, "!r:x", "@anna:x", 1, "m.room.message", {"msgtype": "m.text", "body": body}, body=body)


async def count(dispatcher, model, **where):
    async with dispatcher.services.db.sessions() as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return await session.scalar(query)


async def bodies(dispatcher):
    async with dispatcher.services.db.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [row.content["body"] for row in rows]


async def test_reaction_key_filter_normalises_the_variation_selector(world):
    dispatcher, recorder, _ = world
    await dispatcher.dispatch(reaction("✅", "$a"))
    await dispatcher.dispatch(reaction("✅\ufe0f", "$b"))
    await dispatcher.dispatch(reaction("👍", "$c"))
    assert sorted(recorder.seen) == sorted(
        [("done", "$a"), ("reaction", "$a"), ("done", "$b"), ("reaction", "$b"), ("reaction", "$c")]
    )


async def test_handlers_by_matrix_event_type_and_unwanted_types_write_nothing(world):
    dispatcher, recorder, _ = world
    await dispatcher.dispatch(room_event("m.poll.response", "$v1"))
    await dispatcher.dispatch(room_event("org.matrix.msc3381.poll.response", "$v2"))
    await dispatcher.dispatch(room_event("m.poll.start", "$nobody"))
    await dispatcher.dispatch(message("just chatting", "$chat"))
    assert recorder.seen == [("vote", "$v1"), ("vote", "$v2")]
    assert await count(dispatcher, HandledEvent) == 2
    assert await count(dispatcher, HandledEvent, event_id="$nobody") == 0


async def test_transient_failure_is_deferred_then_handled_once(world):
    dispatcher, recorder, clock = world
    recorder.fail_next = 1
    await dispatcher.dispatch(room_event("m.poll.response", "$v"))
    await dispatcher.dispatch(reaction("👍", "$other"))  # the rest of the batch goes on
    # Between the failure and the retry only the DeferredEvent row exists for it.
    assert recorder.seen == [("reaction", "$other")]
    assert await count(dispatcher, HandledEvent, event_id="$v") == 0
    assert await bodies(dispatcher) == []
    async with dispatcher.services.db.sessions() as session:
        row = await session.get(DeferredEvent, "$v")
        assert row.attempts == 1 and "502" in row.error
        assert row.next_at.replace(tzinfo=UTC) == clock.now + timedelta(seconds=30)
    assert dispatcher.metrics.deferred_events._value.get() == 1
    assert await dispatcher.run_deferred() == 0  # not due yet
    clock.now += timedelta(seconds=31)
    assert await dispatcher.run_deferred() == 1
    assert recorder.seen == [("reaction", "$other"), ("vote", "$v")]
    assert await bodies(dispatcher) == ["vote counted"]
    assert await count(dispatcher, HandledEvent, event_id="$v") == 1
    assert await count(dispatcher, DeferredEvent) == 0
    assert dispatcher.metrics.deferred_events._value.get() == 0
    clock.now += timedelta(hours=1)
    assert await dispatcher.run_deferred() == 0
    await dispatcher.dispatch(room_event("m.poll.response", "$v"))  # a replay by sync
    assert recorder.seen.count(("vote", "$v")) == 1


async def test_timeouts_are_transient_too_and_back_off_doubles(world):
    dispatcher, recorder, clock = world
    recorder.fail_next, recorder.fail_with = 3, TimeoutError
    await dispatcher.dispatch(room_event("m.poll.response", "$v"))
    waits = []
    for _ in range(2):
        async with dispatcher.services.db.sessions() as session:
            due = (await session.get(DeferredEvent, "$v")).next_at.replace(tzinfo=UTC)
        waits.append(due - clock.now)
        clock.now = due
        await dispatcher.run_deferred()
    assert waits == [timedelta(seconds=30), timedelta(seconds=60)]
    assert recorder.seen == []
    clock.now += timedelta(seconds=120)
    await dispatcher.run_deferred()
    assert recorder.seen == [("vote", "$v")]


async def test_gives_up_after_a_day(world, caplog):
    dispatcher, recorder, clock = world
    recorder.fail_next = 10**6
    await dispatcher.dispatch(room_event("m.poll.response", "$v"))
    for _ in range(40):
        clock.now += timedelta(hours=1)
        await dispatcher.run_deferred()
    assert await count(dispatcher, DeferredEvent) == 0
    assert await count(dispatcher, HandledEvent, event_id="$v") == 1
    assert dispatcher.metrics.deferred_given_up._value.get() == 1
    assert any("gave up" in r.getMessage() for r in caplog.records)
    assert await bodies(dispatcher) == []


async def test_a_command_that_fails_for_now_answers_busy(world):
    dispatcher, _, _ = world
    await dispatcher.dispatch(message("!busy", "$c"))
    assert await bodies(dispatcher) == ["The server is busy right now. Please try again in a minute."]
    assert await count(dispatcher, DeferredEvent) == 0
    assert await count(dispatcher, HandledEvent, event_id="$c") == 1


async def test_date_argument_in_the_community_zone(world):
    dispatcher, recorder, _ = world
    await dispatcher.dispatch(message("!remind volgende dinsdag 16:00", "$r1"))
    await dispatcher.dispatch(message("!remind ooit", "$r2"))
    await dispatcher.dispatch(message("!remind morgen", "$r3"))
    assert recorder.seen == [("remind", "2026-12-01T16:00:00+01:00")]
    answers = await bodies(dispatcher)
    assert answers[0].startswith("I cannot read “ooit” as a date and time.") and "!remind <when…>" in answers[0]
    assert "Thursday, 26 November 2026" in answers[1] and "at what time" in answers[1]
