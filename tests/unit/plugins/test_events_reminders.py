"""Reminders: at the configured offsets, in the announcement's thread and by
DM, as m.text pinging only those who said yes and have a seat; never twice;
after a restart (jobs rebuilt from the tables) one that fell due while the
bot was down goes out within the grace period, an older one is dropped with
a log line. A restart here is a real one: a new harness on the same database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from diabot.testing import TestBot
from plugins.events.models import Reminder

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Tuesday 1 December 2026, 16:00 in Emmen = 15:00 UTC; reminders 1 day and 1 hour before.
LINE = '"Netwerkborrel" dinsdag 16:00 @ Raadhuisplein 1, Emmen #energy max 1'
DAY_BEFORE = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
HOUR_BEFORE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


async def boot(tmp_path: Path, now: datetime, old: TestBot | None = None) -> TestBot:
    """A bot; with `old`, the same one restarted: its database and rooms, nothing in memory."""
    if old is None:
        bot = await TestBot.start(tmp_path, plugins=["core", "events"])
        for user in (ANNA, BERND, CARLA):
            bot.add_member(user, bot.theme_room("energy"))
    else:
        await old.stop()
        bot = TestBot(tmp_path, plugins=["core", "events"])
        bot.rooms.rooms, bot.rooms.created, bot.rooms._ids = old.rooms.rooms, old.rooms.created, old.rooms._ids
        bot._ids = old._ids  # event ids go on: the old ones are recorded as handled
        await bot.directory.load()
        bot.outbox.start()
    bot.clock.now = now
    if old is not None:
        for plugin in bot.plugins.values():
            await plugin.start()
            bot._started.append(plugin)
        await bot.settle()
    return bot


@pytest.fixture
async def bot(tmp_path):
    bot = await boot(tmp_path, START)
    room = bot.theme_room("energy")
    await bot.say(ANNA, f"!evenement {LINE}", room=room)
    await bot.run_jobs()  # the announcement's reactions
    await bot.say(BERND, "!rsvp 1 ja", room=room)
    await bot.say(CARLA, "!rsvp 1 ja", room=room)  # waits: no reminder for her
    yield bot
    await bot.stop()


def reminders_in(sent) -> list:
    return [s for s in sent if "Herinnering" in s.body or "Reminder" in s.body]


async def test_a_reminder_goes_to_the_thread_and_the_dm_once(bot):
    announcement = bot.sent(bot.theme_room("energy"))[0].event_id
    assert not reminders_in(await bot.run_jobs(DAY_BEFORE - START - timedelta(seconds=1)))
    sent = reminders_in(await bot.run_jobs(timedelta(seconds=1)))
    room_reminder, dm_reminder = sent
    for reminder in sent:
        assert reminder.content["msgtype"] == "m.text"  # a notice would never reach a phone
        assert reminder.content["m.mentions"] == {"user_ids": [BERND]}
    assert room_reminder.relates_to == {
        "rel_type": "m.thread",
        "event_id": announcement,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": announcement},
    }
    assert "begint over 1 dag" in room_reminder.body and "beginnt in 1 Tag" in room_reminder.body
    assert dm_reminder.room_id == bot.dm(BERND) and "Raadhuisplein 1, Emmen" in dm_reminder.body
    assert not reminders_in(await bot.run_jobs(timedelta(hours=2)))  # never twice


async def test_after_a_restart_a_missed_reminder_goes_out_once(bot, tmp_path):
    await bot.run_jobs(DAY_BEFORE - START)  # the day-before reminder, while running
    # Down from 13:30 to 15:00 UTC on the day: the hour-before reminder fell due meanwhile.
    restarted = await boot(tmp_path, HOUR_BEFORE + timedelta(minutes=60), old=bot)
    sent = reminders_in(await restarted.run_jobs())
    assert [s.body.count("over 1 uur") for s in sent] == [1, 1]  # thread + DM, the day-before one not again
    again = await boot(tmp_path, HOUR_BEFORE + timedelta(minutes=61), old=restarted)
    assert not reminders_in(await again.run_jobs())
    await again.stop()


async def test_a_reminder_older_than_the_grace_period_is_dropped_with_a_log_line(bot, tmp_path, caplog):
    grace = timedelta(seconds=bot.settings.scheduler.misfire_grace_s)
    with caplog.at_level(logging.INFO, logger="plugins.events.reminders"):
        restarted = await boot(tmp_path, HOUR_BEFORE + grace + timedelta(minutes=1), old=bot)
    assert not reminders_in(await restarted.run_jobs())
    assert sum("reminder dropped" in r.getMessage() for r in caplog.records) == 2
    async with restarted.db.sessions() as session:
        rows = (await session.scalars(select(Reminder))).all()
    assert all(r.dropped_at is not None and r.sent_at is None for r in rows)
    await restarted.stop()


async def test_a_reminder_after_a_cancellation_is_never_sent(bot):
    await bot.say(ANNA, "!evenement annuleer 1", room=bot.theme_room("energy"))
    assert not reminders_in(await bot.run_jobs(DAY_BEFORE - START + timedelta(days=1)))
