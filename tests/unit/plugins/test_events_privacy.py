"""The events part of !mydata and !forget: a member's answers, calendar token,
open dialogue and organised events are exported; erasure deletes them (the
waitlist then moves up), takes back the bot's messages that ping them and
keeps the events they organised, without their name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from diabot.testing import TestBot
from plugins.events.models import CalendarToken, Event, Rsvp

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "events"])
    bot.clock.now = START
    for user in (ANNA, BERND, CARLA):
        bot.add_member(user, bot.theme_room("energy"))
    yield bot
    await bot.stop()


async def test_export_and_erase(bot):
    room = bot.theme_room("energy")
    await bot.say(ANNA, '!evenement "Borrel" dinsdag 16:00 #energy max 1', room=room)
    await bot.run_jobs()
    await bot.say(BERND, "!rsvp 1 ja", room=room)
    await bot.say(CARLA, "!rsvp 1 ja", room=room)  # waits
    await bot.say(BERND, "!agenda", room=room)
    reminder = [
        s for s in (await bot.run_jobs(timedelta(days=5, hours=3))) if s.room_id == room and "Herinnering" in s.body
    ]
    assert reminder and reminder[0].content["m.mentions"] == {"user_ids": [BERND]}

    dm = bot.dm(BERND)
    (export,) = (await bot.say(BERND, "!mijngegevens", room=dm)).of_type("diabot.file")
    data = json.loads(export.content["text"])["events"]
    assert data["answers"][0]["event"] == 1 and data["answers"][0]["answer"] == "yes"
    assert len(data["calendar_token"]["token"]) == 48

    await bot.say(BERND, "!vergeet", room=dm)
    erased = await bot.say(BERND, "!vergeet bevestig", room=dm)
    assert reminder[0].event_id in {s.redacts for s in erased}  # the reminder that pinged him
    async with bot.db.sessions() as session:
        assert (await session.scalars(select(Rsvp.user_id))).all() == [CARLA]
        assert await session.get(CalendarToken, BERND) is None
    promoted = await bot.run_jobs()  # the waitlist moves up in a job of its own
    (dm_carla,) = promoted.in_room(bot.dm(CARLA))
    assert dm_carla.content["msgtype"] == "m.text" and "plek vrijgekomen" in dm_carla.body
    async with bot.db.sessions() as session:
        assert (await session.scalars(select(Rsvp.waitlisted))).all() == [False]

    await bot.say(ANNA, "!agenda", room=room)  # opens her DM
    anna_dm = bot.dm(ANNA)
    (export,) = (await bot.say(ANNA, "!mijngegevens", room=anna_dm)).of_type("diabot.file")
    assert json.loads(export.content["text"])["events"]["organised"][0]["title"] == "Borrel"
    await bot.say(ANNA, "!vergeet", room=anna_dm)
    await bot.say(ANNA, "!vergeet bevestig", room=anna_dm)
    async with bot.db.sessions() as session:
        event = await session.get(Event, 1)
    assert event is not None and event.organiser is None  # the event stays: Carla is coming
