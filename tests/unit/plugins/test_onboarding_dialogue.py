"""The members plugin's onboarding dialogue through the test harness: how the
answers a member types on a phone are read, step by step, in their language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from diabot.resource_types import RESOURCES
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


async def test_an_answer_not_understood_is_asked_again_briefly(bot):
    dm = await open_dialogue(bot)
    await bot.say(ANNA, "Deutsch", room=dm)
    reply = await bot.say(ANNA, "vielleicht später", room=dm)
    assert reply.text == "Entschuldigung, ja oder nein?"  # not the consent text once more
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


# ---- first contact: the greeting, the language, consent ------------------------------------

JAN = "@jan:example.org"  # a server name that says nothing about the language


async def test_the_first_message_greets_in_three_languages_and_rings(bot):
    await bot.join(JAN, bot.space)
    greeting = await bot.join(JAN, bot.dm(JAN))
    (first,) = greeting
    # m.text: Matrix's default push rules never notify for a notice.
    assert first.content["msgtype"] == "m.text" and first.content["m.mentions"] == {}
    for lang in ("nl", "de", "en"):
        assert bot.i18n.t(lang, "members.greeting") in first.body
    assert "1. Nederlands" in first.body
    # A German server name: German comes first.
    await bot.join(ANNA, bot.space)
    (anna_first,) = await bot.join(ANNA, bot.dm(ANNA))
    assert anna_first.body.index("Willkommen") < anna_first.body.index("Welkom") < anna_first.body.index("Welcome")


@pytest.mark.parametrize(
    ("greeting", "lang"),
    [("Goedemorgen", "nl"), ("Guten Morgen!", "de"), ("Hello", "en"), ("Hoi, ik ben Jan", "nl"), ("Moin", "de")],
)
async def test_a_greeting_is_the_choice_of_a_language(bot, greeting, lang):
    dm = await open_dialogue(bot, JAN)
    (reply,) = await bot.say(JAN, greeting, room=dm)
    assert reply.body == bot.i18n.t(lang, "members.q.consent", version=1)
    assert reply.content["msgtype"] == "m.notice"  # an answer to what they typed
    reply = await bot.say(JAN, "Ja, klar!", room=dm)
    assert reply.text == bot.i18n.t(lang, "members.q.company") + " " + bot.i18n.t(lang, "members.skip_hint")
    state = await state_of(bot, JAN)
    assert state is not None and state.answers["lang"] == lang and state.answers["consent"] == 1


async def test_hallo_alone_is_asked_again_unless_the_server_tells(bot):
    dm = await open_dialogue(bot, JAN)
    reply = await bot.say(JAN, "Hallo", room=dm)  # Dutch and German alike
    assert reply.text == bot.i18n.t("en", "members.reask.language")
    reply = await bot.say(JAN, "2", room=dm)
    assert bot.i18n.t("de", "members.q.consent", version=1) in reply.text
    anna_dm = await open_dialogue(bot, ANNA)  # @anna:x.de
    reply = await bot.say(ANNA, "Hallo!", room=anna_dm)
    assert bot.i18n.t("de", "members.q.consent", version=1) in reply.text


async def test_consent_is_short_and_the_full_text_one_command_away(bot):
    for lang, command in (("nl", "!privacy"), ("de", "!datenschutz"), ("en", "!privacy")):
        consent = bot.i18n.t(lang, "members.q.consent", version=1)
        assert len(consent) <= 350, (lang, len(consent))
        assert command in consent
    chat = bot.open_chat(ANNA)
    reply = await bot.say(ANNA, "!datenschutz", room=chat)
    assert reply.text == bot.i18n.t("de", "members.privacy.text", version=1, months=18)
    assert "{" not in reply.text


async def test_german_says_sie_and_the_du_overlay_says_du(tmp_path):
    (tmp_path / "sie").mkdir()
    (tmp_path / "du").mkdir()
    async with await TestBot.start(tmp_path / "sie", plugins=["core", "members"]) as sie:
        dm = await open_dialogue(sie)
        reply = await sie.say(ANNA, "Deutsch", room=dm)
        assert "Kurzprofil Ihres Unternehmens" in reply.text
        assert "Wo sitzt Ihr Unternehmen?" in sie.i18n.t("de", "members.q.town")
        assert "Was sucht Ihr Unternehmen?" in sie.i18n.t("de", "members.q.seeks")
    async with await TestBot.start(
        tmp_path / "du", plugins=["core", "members"], config={"bot": {"german_address": "du"}}
    ) as du:
        dm = await open_dialogue(du)
        reply = await du.say(ANNA, "Deutsch", room=dm)
        assert "Kurzprofil deiner Firma" in reply.text
        assert len(reply.text) <= 350


# ---- asking again, briefly ------------------------------------------------------------------


async def answer_up_to(bot: TestBot, step: str, user: str = ANNA) -> str:
    """Through the dialogue in Dutch until `step` is asked."""
    dm = await open_dialogue(bot, user)
    for answer in ("nl", "ja", "Bakker", "Emmen", "1", "Brood", "1", "1", "1", "nee", None):
        state = await state_of(bot, user)
        assert state is not None
        if state.step == step:
            return dm
        assert answer is not None, f"never reached {step}"
        await bot.say(user, answer, room=dm)
    raise AssertionError(step)


@pytest.mark.parametrize(
    ("step", "answer", "expected"),
    [
        ("consent", "misschien", "Sorry, ja of nee?"),
        ("listed", "🤔", "Sorry, ja of nee?"),
        ("side", "Mars", "Sorry, welk nummer?\n1. Nederland\n2. Duitsland"),
        ("themes", "qwertz", "Sorry, welke nummer(s)? Bijvoorbeeld: 1, 3"),
        ("offers", "99", "Sorry, welke nummer(s)? Bijvoorbeeld: 1, 3"),
        ("company", "👍", "Sorry, dat begreep ik niet. Hoe heet je bedrijf? (Typ “overslaan” om dit weg te laten.)"),
    ],
)
async def test_each_step_asks_again_in_one_short_line(bot, step, answer, expected):
    dm = await answer_up_to(bot, step)
    reply = await bot.say(ANNA, answer, room=dm)
    assert reply.bodies == [expected]
    state = await state_of(bot)
    assert state is not None and state.step == step


# ---- the lists and the end ------------------------------------------------------------------


async def test_offer_labels_are_short_and_explained_on_request(bot):
    dm = await answer_up_to(bot, "offers")
    question = bot.sent(room=dm)[-1].body
    for key in ("knowledge", "people", "facilities", "training"):
        assert bot.i18n.t("nl", f"members.resource.{key}") in question
        assert bot.i18n.t("nl", f"members.resource_long.{key}") not in question
    assert "!middelen" in question
    for lang in ("nl", "de", "en"):
        for key in RESOURCES:
            assert len(bot.i18n.t(lang, f"members.resource.{key}")) <= 30, (lang, key)
    explained = await bot.say(ANNA, "!middelen", room=dm)
    assert bot.i18n.t("nl", "members.resource_long.people") in explained.text


async def test_the_working_group_is_never_offered_nor_invited(bot):
    dm = await answer_up_to(bot, "themes")
    question = bot.sent(room=dm)[-1].body
    assert "Werkgroep" not in question and "Welkom" not in question
    reply = await bot.say(ANNA, "Werkgroep DIA", room=dm)
    assert reply.text == bot.i18n.t("nl", "members.reask.numbers")
    await bot.say(ANNA, "1", room=dm)
    # An answer kept from before (e.g. an older version of the bot) names the working group anyway.
    async with bot.db.transaction() as session:
        state = await session.get(Onboarding, ANNA)
        assert state is not None
        state.answers = {**state.answers, "themes": ["energy", "workgroup"]}
    for answer in ("1", "1", "nee"):
        await bot.say(ANNA, answer, room=dm)
    await bot.say(ANNA, "nee", room=dm)
    invited = {room for room, user in bot.rooms.invites if user == ANNA}
    assert bot.theme_room("energy") in invited and bot.theme_room("workgroup") not in invited


async def test_the_closing_message_lists_one_command_per_line(bot):
    dm = await answer_up_to(bot, "intro")
    done = await bot.say(ANNA, "nee", room=dm)
    commands = [line for line in done.text.splitlines() if line.startswith("!")]
    assert 1 <= len(commands) <= 4
    assert all(line.count("!") == 1 for line in commands)
    assert commands[0].startswith("!profiel ")
