"""!forget through the test harness with members and translate enabled: after
an onboarding (with an introduction) and a translated message, every
plugin's rows about the member go and the bot's events that carry their
data (introduction, translation, the data export) are redacted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from diabot.direct import direct_intent
from diabot.storage.models import ErasureLog, RoomIntent, SentEvent, UserSetting
from diabot.testing import TestBot, fake_translator
from plugins.members.models import Onboarding, Profile
from plugins.translate.models import TranslateUser

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"
NL = "Ik heb morgen een vergadering met de gemeente"
ONBOARDING = ("nl", "ja", "Bakkerij 't Hoekje", "Emmen", "1", "Brood", "1", "1", "1", "ja", "ja")


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "members", "translate"], translator=fake_translator())
    yield bot
    await bot.stop()


async def count(bot: TestBot, model, *where) -> int:
    async with bot.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def test_forget_erases_every_plugin_and_redacts_what_carried_their_data(bot):
    await bot.join(ANNA, bot.space)
    dm = bot.dm(ANNA)
    await bot.join(ANNA, dm)
    for answer in ONBOARDING:
        done = await bot.say(ANNA, answer, room=dm)
    welcome = bot.theme_room("welcome")
    intro = done.in_room(welcome)
    assert intro and "Bakkerij 't Hoekje" in intro.text
    group = bot.rooms.add_room(members=[ANNA, BERND, CARLA])
    translation = await bot.say(ANNA, NL, room=group)
    assert translation and translation.text.endswith("[de]")
    await bot.say(ANNA, "!vertaal mij aan", room=group)
    export = (await bot.say(ANNA, "!mijngegevens", room=dm)).of_type("diabot.file")
    assert export and "Bakkerij" in export[0].content["text"]
    # Bernd's translation stays: it is about him, not her.
    bernds = await bot.say(BERND, NL, room=group)

    assert await count(bot, SentEvent, SentEvent.user_id == ANNA) >= 3
    assert await count(bot, Profile, Profile.user_id == ANNA) == 1
    assert await count(bot, TranslateUser, TranslateUser.user_id == ANNA) == 1

    asked = await bot.say(ANNA, "!vergeet", room=dm)
    assert "!vergeet bevestig" in asked.text
    assert await count(bot, Profile, Profile.user_id == ANNA) == 1  # nothing happens before the confirmation
    erased = await bot.say(ANNA, "!vergeet bevestig", room=dm)

    redacted = {s.redacts for s in erased.of_type("m.room.redaction")}
    assert {s.event_id for s in (*intro, *translation, *export)} <= redacted
    assert not {s.event_id for s in bernds} & redacted
    assert bot.i18n.t("nl", "core.forget.done") in erased.text
    assert not bot.rooms.has_joined(dm, bot.services.bot_user_id)  # and the bot left the chat
    for model, where in (
        (Profile, Profile.user_id == ANNA),
        (Onboarding, Onboarding.user_id == ANNA),
        (TranslateUser, TranslateUser.user_id == ANNA),
        (UserSetting, UserSetting.user_id == ANNA),
        (SentEvent, SentEvent.user_id == ANNA),
        (RoomIntent, RoomIntent.key == direct_intent(ANNA)),
    ):
        assert await count(bot, model, where) == 0, model.__tablename__
    assert await count(bot, SentEvent, SentEvent.user_id == BERND) == 1
    async with bot.db.sessions() as session:
        reasons = (await session.scalars(select(ErasureLog.reason))).all()
    assert reasons == ["request"]


async def test_forget_is_refused_outside_the_private_chat(bot):
    bot.add_member(ANNA)
    group = bot.rooms.add_room(members=[ANNA, BERND, CARLA])
    reply = await bot.say(ANNA, "!vergeet", room=group)
    assert reply.text == bot.i18n.t("nl", "core.private_only")
