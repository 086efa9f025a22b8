"""The plugin test harness itself (diabot.testing): events through the real
dispatcher, replies from the outbox, the fake rooms, jobs run on demand."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from diabot.errors import TransientError
from diabot.testing import BOT, TestBot

ANNA = "@anna:x.nl"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "members"])
    yield bot
    await bot.stop()


async def test_a_command_gets_its_reply_from_the_outbox(bot):
    room = bot.open_chat(ANNA)
    started = time.perf_counter()
    replies = await bot.say(ANNA, "!ping", room=room)
    assert time.perf_counter() - started < 0.5
    assert len(replies) == 1
    (reply,) = replies
    assert reply.room_id == room and reply.type == "m.room.message"
    assert reply.reply_to is not None  # an answer to the command
    assert reply.body == bot.i18n.t("nl", "core.ping.pong")
    assert bot.sent(room=room) == replies


async def test_nothing_is_sent_for_a_message_no_one_wants(bot):
    room = bot.open_chat(ANNA)
    assert await bot.say(ANNA, "just chatting", room=room) == []
    assert await bot.say(BOT, "!ping", room=room) == []  # the bot's own message


async def test_joining_the_space_opens_a_direct_chat_once(bot):
    await bot.join(ANNA, bot.space)
    dm = bot.dm(ANNA)
    assert (dm, ANNA) in bot.rooms.invites
    assert bot.rooms.rooms[dm].is_direct and bot.rooms.rooms[dm].encrypted
    greeting = await bot.join(ANNA, dm)
    assert greeting.in_room(dm) and bot.i18n.t("nl", "members.q.language") in greeting.text
    await bot.leave(ANNA, bot.space)
    await bot.join(ANNA, bot.space)
    assert [r.intent for r in bot.rooms.created] == [f"direct:{ANNA}"]


async def test_a_transient_failure_defers_the_event_until_the_jobs_run(bot):
    bot.rooms.fail("create_room", TransientError("homeserver 502"))
    assert await bot.join(ANNA, bot.space) == []
    assert bot.rooms.created == []
    await bot.run_jobs(advance=timedelta(minutes=1))
    assert bot.dm(ANNA)


async def test_scheduled_jobs_run_only_when_asked(bot):
    assert bot.scheduler.has("members.housekeeping.start")
    assert await bot.run_jobs() == []
    assert bot.scheduler.has("members.housekeeping.start")
    await bot.run_jobs(advance=timedelta(seconds=6))
    assert not bot.scheduler.has("members.housekeeping.start")
    assert bot.scheduler.has("members.housekeeping")


async def test_a_room_that_refuses_does_not_hold_up_the_others(bot):
    refusing, other = bot.open_chat(ANNA), bot.open_chat(ANNA)
    bot.transport.refuse(refusing)
    assert await bot.say(ANNA, "!ping", room=refusing) == []  # parked, not retried for ever
    assert len(await bot.say(ANNA, "!ping", room=other)) == 1
    assert await bot.outbox.pending_count() == 0


async def test_a_plugin_of_the_test_own_and_the_sender_api(tmp_path):
    from diabot.commands import command
    from diabot.plugin import Plugin, PluginConfig

    class Poll(Plugin[PluginConfig]):
        name = "polltest"

        @command("poll", help="core.ping.help")
        async def poll(self, ctx):
            handle = ctx.poll(ctx.room_id, "Lunch?", ["Ja", "Nee"])
            ctx.ledger.record(handle, "polltest.poll", subject="lunch")
            ctx.react(ctx.room_id, ctx.event.event_id, "✅")

    bot = await TestBot.start(tmp_path, plugins=["core", Poll], config={"bot": {"admins": [ANNA]}})
    try:
        room = bot.open_chat(ANNA)
        sent = await bot.say(ANNA, "!poll", room=room)
        assert [s.type for s in sent] == ["org.matrix.msc3381.poll.start", "m.reaction"]
        assert sent[1].relates_to["key"] == "✅"
        async with bot.db.sessions() as session:
            from diabot.ledger import Ledger

            (entry,) = await Ledger(session, bot.outbox).find("polltest.poll")
        assert entry.event_id == sent[0].event_id  # the handle resolved to the sent event
    finally:
        await bot.stop()
