"""`!event` without arguments: the questions in the DM, answers that are
understood or answered with how they were read, a restart in the middle,
*stop*, the timeout; and the public-holiday warning in the organiser's
language (27 April in the Netherlands, 3 October in Lower Saxony)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from diabot.testing import TestBot
from plugins.events.models import Event, EventDraft

ANNA, BERND = "@anna:x", "@bernd:x"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "events"])
    bot.clock.now = START
    for user in (ANNA, BERND):
        bot.add_member(user, bot.theme_room("energy"))
    yield bot
    await bot.stop()


async def restart(bot: TestBot, tmp_path) -> TestBot:
    """The same database and rooms, nothing in memory."""
    await bot.stop()
    again = TestBot(tmp_path, plugins=["core", "events"])
    again.rooms.rooms, again.rooms.created, again.rooms._ids = bot.rooms.rooms, bot.rooms.created, bot.rooms._ids
    again.clock.now, again._ids = bot.clock.now, bot._ids
    await again.directory.load()
    again.outbox.start()
    for plugin in again.plugins.values():
        await plugin.start()
        again._started.append(plugin)
    return again


async def test_the_dialogue_survives_a_restart_and_creates_the_event(bot, tmp_path):
    room = bot.theme_room("energy")
    asked = await bot.say(ANNA, "!evenement", room=room)
    dm = bot.dm(ANNA)
    assert "privéchat" in asked.in_room(room).text and "Hoe heet de bijeenkomst" in asked.in_room(dm).text
    assert "Wanneer?" in (await bot.say(ANNA, "Netwerkborrel Emmen", room=dm)).text
    bad = await bot.say(ANNA, "gisteren 16:00", room=dm)
    assert "dinsdag 24 november 2026 om 16:00" in bad.text and "al voorbij" in bad.text  # how it was read

    bot = await restart(bot, tmp_path)
    assert "Waar?" in (await bot.say(ANNA, "dinsdag 16:00-18:30", room=dm)).text
    # The theme came from the room where she typed !evenement: no question about it.
    assert "Hoeveel plaatsen" in (await bot.say(ANNA, "Raadhuisplein 1, Emmen + https://meet.example/x", room=dm)).text
    done = await bot.say(ANNA, "40", room=dm)
    (announcement,) = done.in_room(room)
    assert "Netwerkborrel Emmen" in announcement.body and "16:00–18:30" in announcement.body
    assert "nog 40 plekken vrij" in announcement.body and "https://meet.example/x" in announcement.body
    assert "Bijeenkomst #1 is aangekondigd" in done.in_room(dm).text
    async with bot.db.sessions() as session:
        assert (await session.scalars(select(EventDraft))).all() == []
        event = await session.get(Event, 1)
    assert event.place == "Raadhuisplein 1, Emmen" and event.capacity == 40 and event.organiser == ANNA
    await bot.stop()


async def test_stop_and_the_timeout(bot):
    await bot.say(BERND, "!termin", room=bot.space)
    dm = bot.dm(BERND)
    assert "Wann?" in (await bot.say(BERND, "Stammtisch", room=dm)).text
    assert "Abgebrochen" in (await bot.say(BERND, "abbrechen", room=dm)).text
    assert not (await bot.say(BERND, "morgen 10 Uhr", room=dm))  # no dialogue any more: no answer

    await bot.say(BERND, "!termin", room=dm)
    await bot.say(BERND, "Stammtisch", room=dm)
    swept = await bot.run_jobs(timedelta(minutes=31), job_id="events.dialogue_sweep")
    assert "nach 30 Minuten ohne Antwort beendet" in swept.in_room(dm).text
    async with bot.db.sessions() as session:
        assert (await session.scalars(select(EventDraft))).all() == []


async def test_the_theme_question_when_typed_outside_a_themed_room(bot):
    await bot.say(ANNA, "!event", room=bot.space)
    dm = bot.dm(ANNA)
    await bot.say(ANNA, "Webinar", room=dm)
    await bot.say(ANNA, "3 December 2pm", room=dm)
    asked = await bot.say(ANNA, "-", room=dm)
    assert "Which theme" in asked.text and "2. Energietransitie / Energiewende" in asked.text
    assert "Werkgroep" not in asked.text  # the closed working group is not offered
    assert "How many places" in (await bot.say(ANNA, "digital", room=dm)).text
    done = await bot.say(ANNA, "-", room=dm)
    assert done.in_room(bot.theme_room("digital"))


@pytest.mark.parametrize(
    ("command", "holiday"),
    [
        ('!evenement "Borrel" 27 april 2027 16:00 #energy', "Koningsdag (NL)"),
        ('!veranstaltung "Treffen" 27. April 2027 16 Uhr #energy', "Königstag (NL)"),
        ('!veranstaltung "Treffen" 3. Oktober 2027 14 Uhr #energy', "Tag der Deutschen Einheit (DE-NI)"),
        ('!evenement "Borrel" 3 oktober 2027 14:00 #energy', "Dag van de Duitse Eenheid (DE-NI)"),
        ('!event "Drinks" 25 December 2027 4pm #energy', "Christmas Day (NL), Christmas Day (DE-NI)"),
    ],
)
async def test_a_public_holiday_is_named_in_the_organisers_language(bot, command, holiday):
    reply = (await bot.say(ANNA, command, room=bot.theme_room("energy"))).text
    assert holiday in reply and "⚠️" in reply


async def test_no_warning_on_a_working_day(bot):
    reply = (await bot.say(ANNA, '!evenement "Borrel" 28 april 2027 16:00', room=bot.theme_room("energy"))).text
    assert "⚠️" not in reply
