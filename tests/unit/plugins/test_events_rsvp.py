"""Events through the test harness: the announcement (both languages in a
cross-border room), answers by reaction and by command, the waitlist, the
throttled edit of the counts, who may change or cancel, and whose names
`!event <id>` shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from diabot.storage.models import KnownRoom
from diabot.testing import TestBot
from plugins.events.models import Event, Reminder, Rsvp

ANNA, BERND, CARLA, DIRK = "@anna:x", "@bernd:x", "@carla:x", "@dirk:x"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LINE = '"Netwerkborrel Emmen" dinsdag 16:00 @ Raadhuisplein 1, Emmen + https://meet.example/x #energy'


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "events"])
    bot.clock.now = START
    for user in (ANNA, BERND, CARLA, DIRK):
        bot.add_member(user, bot.theme_room("energy"))
    yield bot
    await bot.stop()


async def create(bot: TestBot, line: str = LINE, by: str = ANNA) -> str:
    """The announcement's event id, after the seed job reacted under it."""
    await bot.say(by, f"!evenement {line}", room=bot.theme_room("energy"))
    await bot.run_jobs()
    async with bot.db.sessions() as session:
        event = (await session.scalars(select(Event).order_by(Event.id.desc()))).first()
    assert event is not None and event.announcement_event_id
    return event.announcement_event_id


def edits_of(bot: TestBot, target: str):
    return [s for s in bot.sent() if s.relates_to.get("rel_type") == "m.replace" and s.relates_to["event_id"] == target]


async def rsvps(bot: TestBot) -> dict[str, tuple[str, bool]]:
    async with bot.db.sessions() as session:
        return {r.user_id: (r.answer, r.waitlisted) for r in (await session.scalars(select(Rsvp))).all()}


async def test_announcement_in_both_languages_and_answers_by_reaction_and_command(bot):
    room = bot.theme_room("energy")
    created = await bot.say(ANNA, f"!evenement {LINE}", room=room)
    announcement, reply = created
    assert announcement.content["msgtype"] == "m.notice" and announcement.content["m.mentions"] == {}
    for part in (
        "Netwerkborrel Emmen",
        "dinsdag 1 december 2026, 16:00–18:00",
        "Dienstag, 1. Dezember 2026, 16:00–18:00",
    ):
        assert part in announcement.body
    assert "Raadhuisplein 1, Emmen" in announcement.body and "https://meet.example/x" in announcement.body
    assert "Reageer met ✅ ❓ ❌" in announcement.body and "Reagieren Sie mit ✅ ❓ ❌" in announcement.body
    # The organiser sees how the date was understood, in her language.
    assert reply.reply_to and "dinsdag 1 december 2026, 16:00–18:00" in reply.body and "#1" in reply.body

    seeded = await bot.run_jobs()
    assert [s.content["m.relates_to"]["key"] for s in seeded.of_type("m.reaction")] == ["✅", "❓", "❌"]
    target = announcement.event_id
    await bot.react(BERND, target, "✅\ufe0f", room)  # with the variation selector, as some clients send it
    (edit,) = edits_of(bot, target)
    assert "✅ 1 · ❓ 0 · ❌ 0" in edit.content["m.new_content"]["body"]
    answered = await bot.say(CARLA, "!rsvp 1 vielleicht", room=room)
    assert "Notiert: vielleicht" in answered.text
    assert await rsvps(bot) == {BERND: ("yes", False), CARLA: ("maybe", False)}
    await bot.run_jobs(timedelta(seconds=10))
    assert "✅ 1 · ❓ 1 · ❌ 0" in edits_of(bot, target)[-1].content["m.new_content"]["body"]


async def test_a_room_with_a_language_gets_one(bot):
    room = bot.theme_room("energy")
    async with bot.db.transaction() as session:
        session.add(KnownRoom(room_id=room, joined_ts=0, language="de"))
    created = await bot.say(ANNA, f"!evenement {LINE}", room=room)
    assert "Dienstag, 1. Dezember" in created[0].body and "dinsdag" not in created[0].body


async def test_the_waitlist_moves_up_and_the_promoted_member_is_told_by_an_m_text(bot):
    room = bot.theme_room("energy")
    target = await create(bot, LINE + " max 2")
    await bot.react(ANNA, target, "✅", room)
    await bot.say(BERND, "!rsvp 1 ja", room=room)
    waiting = await bot.react(CARLA, target, "✅", room)
    # By reaction no reply can reach her in the room: a DM says she waits.
    (note,) = waiting
    assert note.room_id == bot.dm(CARLA) and "nummer 1 op de wachtlijst" in note.body
    late = await bot.say(DIRK, "!rsvp 1 yes", room=room)
    assert "number 2 on the waitlist" in late.text
    assert await rsvps(bot) == {ANNA: ("yes", False), BERND: ("yes", False), CARLA: ("yes", True), DIRK: ("yes", True)}

    freed = await bot.say(BERND, "!rsvp 1 nee", room=room)
    (promotion,) = freed.in_room(bot.dm(CARLA))
    assert promotion.content["msgtype"] == "m.text" and promotion.content["m.mentions"] == {"user_ids": [CARLA]}
    assert "plek vrijgekomen" in promotion.body and "dinsdag 1 december 2026, 16:00–18:00" in promotion.body
    assert (await rsvps(bot))[CARLA] == ("yes", False) and (await rsvps(bot))[DIRK] == ("yes", True)
    # Raising the capacity lets the next one in.
    await bot.say(ANNA, "!evenement wijzig 1 max 3", room=room)
    assert (await rsvps(bot))[DIRK] == ("yes", False)
    assert any("plek vrijgekomen" in s.body for s in bot.sent(bot.dm(DIRK)))


async def test_counts_are_edited_at_most_once_per_ten_seconds(bot):
    room = bot.theme_room("energy")
    target = await create(bot)
    for user in (ANNA, BERND, CARLA, DIRK):
        await bot.react(user, target, "✅", room)
        bot.clock.advance(timedelta(seconds=1))
    assert len(edits_of(bot, target)) == 1  # the first at once, the rest wait
    await bot.run_jobs(timedelta(seconds=5))  # 9 s after the first edit
    assert len(edits_of(bot, target)) == 1
    await bot.run_jobs(timedelta(seconds=1))
    edits = edits_of(bot, target)
    assert len(edits) == 2 and "✅ 4" in edits[-1].content["m.new_content"]["body"]
    await bot.run_jobs(timedelta(seconds=30))
    assert len(edits_of(bot, target)) == 2  # nothing changed since


async def test_taking_the_reaction_back_takes_the_answer_back(bot):
    room = bot.theme_room("energy")
    target = await create(bot, LINE + " max 1")
    await bot.react(ANNA, target, "✅", room)
    reaction = bot.rooms.messages  # reactions are not messages: find its event id from the row
    async with bot.db.sessions() as session:
        reaction_id = await session.scalar(select(Rsvp.reaction_event_id).where(Rsvp.user_id == ANNA))
    assert reaction_id and reaction is not None
    await bot.say(BERND, "!rsvp 1 ja", room=room)
    await bot.redact(BERND, reaction_id, room)  # someone else's redaction changes nothing
    assert (await rsvps(bot))[ANNA] == ("yes", False)
    promoted = await bot.redact(ANNA, reaction_id, room)
    assert ANNA not in await rsvps(bot) and (await rsvps(bot))[BERND] == ("yes", False)
    assert promoted.in_room(bot.dm(BERND))


async def test_strangers_reactions_count_for_nothing(bot):
    target = await create(bot)
    stranger = "@stranger:elsewhere"
    bot.rooms.add_member(bot.theme_room("energy"), stranger)  # in the room, not in the community space
    await bot.react(stranger, target, "✅", bot.theme_room("energy"))
    assert await rsvps(bot) == {}


async def test_only_the_organiser_or_a_moderator_edits_and_cancels(bot):
    room = bot.theme_room("energy")
    target = await create(bot)
    await bot.react(BERND, target, "✅", room)
    refused = await bot.say(CARLA, "!event edit 1 place Elders", room=room)
    assert "Only the organiser" in refused.text

    moved = await bot.say(ANNA, "!evenement wijzig 1 wanneer woensdag 2 december 17:00", room=room)
    assert "woensdag 2 december 2026, 17:00–19:00" in moved.text  # the length stays 2 hours
    (told,) = [s for s in moved if s.content.get("msgtype") == "m.text"]
    assert told.relates_to["rel_type"] == "m.thread" and told.relates_to["event_id"] == target
    assert told.content["m.mentions"] == {"user_ids": [BERND]}
    async with bot.db.sessions() as session:
        event = await session.get(Event, 1)
        reminders = (await session.scalars(select(Reminder.due_at))).all()
    assert event.sequence == 1 and event.starts_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert sorted(r.replace(tzinfo=UTC) for r in reminders) == [
        datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
    ]

    bot.make_moderator(DIRK)
    cancelled = await bot.say(DIRK, "!event cancel 1", room=room)
    (dm,) = cancelled.in_room(bot.dm(BERND))
    assert dm.content["msgtype"] == "m.text" and dm.content["m.mentions"] == {"user_ids": [BERND]}
    assert "has been cancelled" in cancelled.text or "is geannuleerd" in dm.body
    await bot.run_jobs(timedelta(seconds=10))
    assert "GEANNULEERD" in edits_of(bot, target)[-1].content["m.new_content"]["body"]
    async with bot.db.sessions() as session:
        assert (await session.scalars(select(Reminder))).all() == []
    assert not any(job.startswith("events.reminder.") for job in bot.scheduler.jobs)
    again = await bot.say(ANNA, "!rsvp 1 ja", room=room)
    assert "geannuleerd" in again.text


async def test_names_only_of_members_who_agreed_to_be_listed(bot):
    room = bot.theme_room("energy")
    target = await create(bot)
    for user in (BERND, CARLA, DIRK):
        await bot.react(user, target, "✅", room)
    bot.rooms.add_member(room, BERND, display_name="Bernd Müller")

    async def listed(session, users):
        return {BERND} & set(users)

    shown = await bot.say(ANNA, "!evenement 1", room=room)
    assert "3 leden komen" in shown.text and "Bernd" not in shown.text  # nobody asks who is listed yet
    bot.services.privacy.recognise_listing(listed)
    shown = await bot.say(ANNA, "!evenement 1", room=room)
    assert "Komen: Bernd Müller en nog 2" in shown.text and "carla" not in shown.text
    bot.rooms.set_public(room)  # strangers can read along: counts only
    shown = await bot.say(ANNA, "!evenement 1", room=room)
    assert "Bernd" not in shown.text and "3 leden komen" in shown.text


async def test_the_list_of_upcoming_events(bot):
    room = bot.theme_room("energy")
    assert "geen komende bijeenkomsten" in (await bot.say(ANNA, "!bijeenkomsten", room=room)).text
    await bot.say(ANNA, '!evenement "Borrel" dinsdag 16:00 #energy max 40', room=room)
    await bot.say(ANNA, '!evenement "Webinar" 3 december 10:00 #digital', room=room)
    await bot.say(ANNA, '!evenement "Oud" morgen 10:00 #energy', room=room)
    await bot.say(ANNA, "!evenement annuleer 3", room=room)
    listed = (await bot.say(BERND, "!veranstaltungen", room=room)).text
    assert listed.index("Borrel") < listed.index("Webinar") and "Oud" not in listed  # in time order, no cancelled
    assert "#1 · 01.12.2026 16:00 · **Borrel** · ✅ 0/40" in listed
    themed = (await bot.say(BERND, "!veranstaltungen digital", room=room)).text
    assert "Webinar" in themed and "Borrel" not in themed
    assert "kein Thema „gärtnern“" in (await bot.say(BERND, "!veranstaltungen gärtnern", room=room)).text
    bot.clock.advance(timedelta(days=30))
    assert "keine kommenden" in (await bot.say(BERND, "!veranstaltungen", room=room)).text
