"""The members plugin's onboarding dialogue through the test harness: how the
answers a member types on a phone are read, step by step, in their language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from diabot.testing import TestBot
from plugins.members.models import Onboarding, Profile

ANNA = "@anna:x.de"  # a German server: the dialogue guesses German until she chooses


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "members"])
    yield bot
    await bot.stop()


async def open_dialogue(bot: TestBot, user: str = ANNA) -> str:
    await bot.join(user, bot.space)
    dm = bot.dm(user)
    await bot.join(user, dm)
    return dm


async def profile_of(bot: TestBot, user: str = ANNA) -> Profile | None:
    async with bot.db.sessions() as session:
        return await session.get(Profile, user)


async def state_of(bot: TestBot, user: str = ANNA) -> Onboarding | None:
    async with bot.db.sessions() as session:
        return await session.scalar(select(Onboarding).where(Onboarding.user_id == user))


async def test_a_whole_dialogue_becomes_the_profile(bot):
    t = bot.i18n.t
    dm = await open_dialogue(bot)
    # "Nederlands", the first option, typed as its number; the rest in Dutch.
    reply = await bot.say(ANNA, "1", room=dm)
    assert t("nl", "members.q.consent", version=1) in reply.text
    reply = await bot.say(ANNA, "ja", room=dm)
    assert t("nl", "members.q.company") in reply.text
    # An apostrophe is no quote: the company name is kept as typed.
    reply = await bot.say(ANNA, "Bakkerij 't Hoekje", room=dm)
    assert t("nl", "members.q.town") in reply.text
    await bot.say(ANNA, "Emmen", room=dm)
    reply = await bot.say(ANNA, "nederland", room=dm)  # the side, by (lower-case) name
    assert t("nl", "members.q.sector") in reply.text
    await bot.say(ANNA, "Bakkerij", room=dm)
    reply = await bot.say(ANNA, "energietransitie en 2", room=dm)  # a theme by name and one by number
    assert t("nl", "members.q.offers") in reply.text
    await bot.say(ANNA, "1, 3", room=dm)
    reply = await bot.say(ANNA, "overslaan", room=dm)  # seeks: skipped
    assert t("nl", "members.q.listed") in reply.text
    await bot.say(ANNA, "jazeker", room=dm)
    done = await bot.say(ANNA, "nee", room=dm)  # no introduction
    assert t("nl", "members.done") in done.text
    profile = await profile_of(bot)
    assert profile is not None
    assert (profile.company, profile.town, profile.side, profile.sector) == (
        "Bakkerij 't Hoekje",
        "Emmen",
        "nl",
        "Bakkerij",
    )
    assert profile.themes == ["energy", "skills"]
    assert (profile.offers, profile.seeks, profile.listed) == (["knowledge", "people"], [], True)
    # Invited to the themes she chose, told so; no introduction in the welcome room.
    assert {room for room, user in bot.rooms.invites if user == ANNA} >= {
        bot.theme_room("energy"),
        bot.theme_room("skills"),
    }
    assert bot.sent(room=bot.theme_room("welcome")) == []
    state = await state_of(bot)
    assert state is not None and state.status == "done"


async def test_the_language_answer_sets_the_language_of_everything_after(bot):
    dm = await open_dialogue(bot, "@bram:x.nl")
    reply = await bot.say("@bram:x.nl", "Deutsch", room=dm)
    assert bot.i18n.t("de", "members.q.consent", version=1) in reply.text
    # Commands answer in the chosen language too, not only the dialogue.
    current = await bot.say("@bram:x.nl", "!taal", room=dm)
    assert current.text == bot.i18n.t("de", "core.lang.current", language=bot.i18n.t("de", "core.language.de"))


async def test_an_answer_not_understood_is_asked_again(bot):
    dm = await open_dialogue(bot)
    await bot.say(ANNA, "Deutsch", room=dm)
    reply = await bot.say(ANNA, "vielleicht später", room=dm)
    assert bot.i18n.t("de", "members.reask") in reply.text
    assert bot.i18n.t("de", "members.q.consent", version=1) in reply.text
    state = await state_of(bot)
    assert state is not None and state.step == "consent"


async def test_no_to_consent_stores_no_profile(bot):
    dm = await open_dialogue(bot)
    await bot.say(ANNA, "deutsch", room=dm)
    reply = await bot.say(ANNA, "nein", room=dm)
    assert bot.i18n.t("de", "members.declined") in reply.text
    assert await profile_of(bot) is None
    state = await state_of(bot)
    assert state is not None and state.status == "declined"


async def test_a_company_name_too_long_is_asked_shorter(bot):
    dm = await open_dialogue(bot)
    await bot.say(ANNA, "de", room=dm)
    await bot.say(ANNA, "ja", room=dm)
    reply = await bot.say(ANNA, "x" * 201, room=dm)
    assert bot.i18n.t("de", "members.too_long", max=200, length=201) in reply.text
    state = await state_of(bot)
    assert state is not None and state.step == "company"


async def test_messages_elsewhere_are_no_answers(bot):
    dm = await open_dialogue(bot)
    other = bot.open_chat(ANNA)
    assert await bot.say(ANNA, "Nederlands", room=other) == []
    state = await state_of(bot)
    assert state is not None and state.step == "language"
    assert dm != other


async def test_profile_set_takes_the_rest_of_the_line(bot):
    dm = await open_dialogue(bot)
    for answer in ("nl", "ja", "Bakker", "Emmen", "1", "Brood", "1", "1", "1", "nee", "nee"):
        await bot.say(ANNA, answer, room=dm)
    reply = await bot.say(ANNA, "!profiel zet bedrijf Bakkerij 't Hoekje", room=dm)
    assert "Bakkerij 't Hoekje" in reply.text
    profile = await profile_of(bot)
    assert profile is not None and profile.company == "Bakkerij 't Hoekje"
    # thema's (with its apostrophe) is a field name members can type.
    reply = await bot.say(ANNA, "!profiel zet thema's energie", room=dm)
    profile = await profile_of(bot)
    assert profile is not None and profile.themes == ["energy"]


async def test_the_profile_is_not_shown_in_a_public_room(bot):
    dm = await open_dialogue(bot)
    for answer in ("nl", "ja", "Bakker", "Emmen", "1", "Brood", "1", "1", "1", "nee", "nee"):
        await bot.say(ANNA, answer, room=dm)
    public = bot.rooms.add_room(members=[ANNA], public=True)
    reply = await bot.say(ANNA, "!profiel", room=public)
    assert reply.text == bot.i18n.t("nl", "members.not_in_public")
    reply = await bot.say(ANNA, "!profiel", room=dm)
    assert "Bakker" in reply.text
