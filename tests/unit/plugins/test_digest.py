"""The digest through the test harness: the choice, the due time in the
community's zone, one m.text in the member's language made of every
provider's lines, nothing when nothing is new, once (also after a restart
and after downtime), the default for members with a profile, room digests,
the real events/polls/members providers and GDPR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from diabot.testing import TestBot
from plugins.digest.models import DigestSetting
from plugins.digest.timing import next_due
from plugins.events.models import Event
from plugins.members.models import Profile
from plugins.polls.models import Poll

ANNA, BERND, CAROL, MOD = "@anna:x", "@bernd:x", "@carol:x", "@mod:x"
MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(
        tmp_path,
        plugins=["core", "members", "events", "polls", "digest"],
        config={"bot": {"default_language": "en"}},
        plugin_config={"digest": {"hour": 8, "weekday": 0}},
    )
    bot.clock.now = MONDAY_NOON
    for user in (ANNA, BERND, CAROL):
        bot.add_member(user, bot.theme_room("energy"))
    bot.make_moderator(MOD)
    yield bot
    await bot.stop()


class Fake:
    """A digest provider whose lines the test sets per member."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}
        self.calls: list[tuple[str, datetime, str]] = []

    async def __call__(self, session, user_id, since, lang):
        self.calls.append((user_id, since, lang))
        return self.lines.get(user_id, [])


def dm_texts(sent, user):
    return [
        s
        for s in sent
        if s.type == "m.room.message"
        and s.content.get("msgtype") == "m.text"
        and user in s.content.get("m.mentions", {}).get("user_ids", [])
    ]


async def setting(bot, user):
    async with bot.db.sessions() as session:
        return await session.get(DigestSetting, user)


def test_due_times_are_local_and_survive_daylight_saving():
    # Saturday 28 March 2026, 09:00 local: the next daily is Sunday 08:00 CEST (06:00 UTC, after the change).
    after = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert next_due("daily", after, AMS, 8, 0) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # Weekly on Monday 08:00: from Monday 12:00 it is the Monday after.
    assert next_due("weekly", MONDAY_NOON, AMS, 8, 0) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    # Exactly at the due moment: the next one, never the same again.
    due = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert next_due("weekly", due, AMS, 8, 0) == due + timedelta(days=7)


async def test_daily_digest_is_one_m_text_in_the_member_s_language_once(bot):
    fake = Fake()
    bot.insights.register_digest("exchange", fake)
    dm = bot.open_chat(ANNA)
    await bot.say(ANNA, "!lang de", room=dm)
    reply = await bot.say(ANNA, "!zusammenfassung täglich", room=dm)
    assert "täglich" in reply.text
    fake.lines[ANNA] = ["Schweißkapazität gesucht in Meppen"]
    assert not dm_texts(await bot.run_jobs(timedelta(hours=19)), ANNA)  # Tuesday 07:00 local: not yet
    sent = await bot.run_jobs(timedelta(hours=1))  # Tuesday 08:00 local
    (digest,) = dm_texts(sent, ANNA)
    assert digest.room_id == bot.dm(ANNA)
    assert "Ihre Zusammenfassung" in digest.body and "Schweißkapazität gesucht" in digest.body
    assert "Gesuche und Angebote" in digest.body  # the section's heading, in German
    assert fake.calls[-1][2] == "de"
    row = await setting(bot, ANNA)
    assert row.last_sent_at is not None and row.next_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert not dm_texts(await bot.run_jobs(timedelta(minutes=30)), ANNA)  # never twice


async def test_nothing_new_means_nothing_sent_but_the_window_moves_on(bot):
    fake = Fake()
    bot.insights.register_digest("exchange", fake)
    dm = bot.open_chat(ANNA)
    await bot.say(ANNA, "!digest daily", room=dm)
    sent = await bot.run_jobs(timedelta(hours=20))
    assert not dm_texts(sent, ANNA) and fake.calls  # asked, nothing new
    row = await setting(bot, ANNA)
    assert row.last_sent_at is None and row.since_at.replace(tzinfo=UTC) == bot.clock.now
    fake.lines[ANNA] = ["new"]
    sent = await bot.run_jobs(timedelta(days=1))
    assert len(dm_texts(sent, ANNA)) == 1
    assert fake.calls[-1][1] == bot.clock.now - timedelta(days=1)  # covers since the previous run


async def test_off_means_off(bot):
    fake = Fake()
    fake.lines[ANNA] = ["something"]
    bot.insights.register_digest("exchange", fake)
    dm = bot.open_chat(ANNA)
    await bot.say(ANNA, "!digest daily", room=dm)
    assert "no more" in (await bot.say(ANNA, "!digest off", room=dm)).text
    assert not dm_texts(await bot.run_jobs(timedelta(days=2)), ANNA)
    assert fake.calls == []


async def test_once_after_restart_and_once_after_downtime(bot):
    fake = Fake()
    fake.lines[ANNA] = ["line"]
    bot.insights.register_digest("exchange", fake)
    await bot.say(ANNA, "!digest daily", room=bot.open_chat(ANNA))
    assert len(dm_texts(await bot.run_jobs(timedelta(hours=20)), ANNA)) == 1
    # A restart: the jobs are gone, start() rebuilds them from the table; nothing goes out twice.
    bot.scheduler.jobs.clear()
    await bot.plugin("digest").start()
    assert not dm_texts(await bot.run_jobs(), ANNA)
    # Down for three days: at the start the overdue digest goes out once, then the rhythm goes on.
    bot.scheduler.jobs.clear()
    bot.clock.advance(timedelta(days=3))
    await bot.plugin("digest").start()
    assert len(dm_texts(await bot.run_jobs(), ANNA)) == 1
    assert not dm_texts(await bot.run_jobs(timedelta(hours=1)), ANNA)
    row = await setting(bot, ANNA)
    assert row.next_at.replace(tzinfo=UTC) > bot.clock.now


async def test_members_with_a_profile_get_it_weekly_by_default(bot):
    async with bot.db.transaction() as session:
        session.add(Profile(user_id=BERND, themes=["energy"], consent_version=1, listed=False))
    fake = Fake()
    fake.lines[BERND] = ["for bernd"]
    fake.lines[CAROL] = ["for carol"]  # no profile, never chose: nothing
    bot.insights.register_digest("exchange", fake)
    await bot.plugin("digest").enrol_audience()
    row = await setting(bot, BERND)
    assert row.frequency == "weekly" and not row.chosen
    assert not dm_texts(await bot.run_jobs(timedelta(days=6, hours=19, minutes=59)), BERND)  # Mon 07:59 local
    sent = await bot.run_jobs(timedelta(minutes=1))
    assert len(dm_texts(sent, BERND)) == 1 and not dm_texts(sent, CAROL)
    status = await bot.say(BERND, "!digest", room=bot.dm(BERND))
    assert "weekly" in status.text


async def test_the_real_providers_events_polls_and_members(bot):
    start = MONDAY_NOON + timedelta(days=3)
    async with bot.db.transaction() as session:
        session.add(Profile(user_id=ANNA, themes=["energy"], consent_version=1, listed=False))
        session.add(
            Profile(
                user_id=BERND,
                company="Zonnepark Emmen",
                themes=["energy"],
                consent_version=1,
                listed=True,
                consent_at=MONDAY_NOON + timedelta(hours=1),
            )
        )
        session.add(
            Profile(
                user_id=CAROL,
                company="Verborgen BV",
                themes=["energy"],
                consent_version=1,
                listed=False,
                consent_at=MONDAY_NOON + timedelta(hours=1),
            )
        )
        session.add(
            Event(
                uid="e1",
                title="Waterstofcafé",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                theme="energy",
                room_id=bot.theme_room("energy"),
                languages="nl,de",
                created_at=MONDAY_NOON + timedelta(hours=2),
            )
        )
        session.add(
            Event(
                uid="e2",
                title="Other theme",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                theme="skills",
                room_id=bot.theme_room("skills"),
                languages="nl",
                created_at=MONDAY_NOON + timedelta(hours=2),
            )
        )
        session.add(
            Poll(
                room_id=bot.theme_room("energy"),
                creator=BERND,
                question="Where next?",
                answers=["Emmen", "Meppen"],
                lang="en",
                closes_at=MONDAY_NOON + timedelta(hours=3),
                closed_at=MONDAY_NOON + timedelta(hours=3),
                result={"counts": {"1": 1, "2": 4}, "voters": 5, "valid": 5},
            )
        )
    await bot.say(ANNA, "!digest daily", room=bot.open_chat(ANNA))
    (digest,) = dm_texts(await bot.run_jobs(timedelta(hours=20)), ANNA)
    assert "Waterstofcafé" in digest.body and "Other theme" not in digest.body
    assert "Where next?: Meppen (4)" in digest.body
    assert "Zonnepark Emmen" in digest.body and "Verborgen" not in digest.body  # listed members only
    assert digest.body.index("New members") < digest.body.index("New events") < digest.body.index("Poll results")
    # The room digest (a moderator's switch): weekly, an m.notice that pings nobody.
    room = bot.theme_room("energy")
    assert "weekly digest" in (await bot.say(MOD, "!digest room on", room=room)).text
    later = bot.clock.now + timedelta(days=10)
    async with bot.db.transaction() as session:  # announced after the switch: new for the room
        session.add(
            Event(
                uid="e3",
                title="Netzbooster-Tag",
                starts_at=later,
                ends_at=later + timedelta(hours=2),
                theme="energy",
                room_id=room,
                languages="nl,de",
                created_at=bot.clock.now + timedelta(hours=1),
            )
        )
    sent = await bot.run_jobs(timedelta(days=7))
    (notice,) = [s for s in sent.in_room(room) if s.content.get("msgtype") == "m.notice" and "This week" in s.body]
    assert "Netzbooster-Tag" in notice.body and "Waterstofcafé" not in notice.body
    assert notice.content["m.mentions"] == {}
    forbidden = await bot.say(ANNA, "!digest room off", room=room)
    assert "weekly" not in forbidden.text


async def test_gdpr_export_and_erase(bot):
    dm = await bot.services.direct.open(ANNA)
    await bot.say(ANNA, "!digest daily", room=dm)
    (export,) = (await bot.say(ANNA, "!mydata", room=dm)).of_type("diabot.file")
    assert '"frequency": "daily"' in export.content["text"]
    await bot.say(ANNA, "!forget", room=dm)
    await bot.say(ANNA, "!forget confirm", room=dm)
    assert await setting(bot, ANNA) is None


async def test_right_after_a_start_it_waits_for_the_synced_rooms(bot):
    fake = Fake()
    fake.lines[ANNA] = ["line"]
    bot.insights.register_digest("exchange", fake)
    await bot.say(ANNA, "!digest daily", room=bot.open_chat(ANNA))
    bot.plugin("digest").started_at = bot.clock.now + timedelta(hours=20)  # just started when it falls due
    bot.rooms.remove_member(bot.space, "@diabot:test")  # not synced yet: the space is unknown
    assert not dm_texts(await bot.run_jobs(timedelta(hours=20)), ANNA) and fake.calls == []
    bot.rooms.add_member(bot.space, "@diabot:test")
    assert len(dm_texts(await bot.run_jobs(timedelta(seconds=5)), ANNA)) == 1
