"""The translate plugin through the test harness: which messages are
translated into which languages, and what each command answers with
translation switched off or without a model. The real Translator runs over
a fake engine (`<sentence> [<target>]`) and a word-list language id."""

from __future__ import annotations

import pytest

from diabot.testing import TestBot, fake_translator

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"
NL = "Ik heb morgen een vergadering met de gemeente"
DE = "Ich habe morgen eine Besprechung mit der Gemeinde und das ist gut"
EN = "We have a meeting with the council tomorrow and this is good"


async def start(tmp_path, translator=None, **config) -> TestBot:
    bot = await TestBot.start(
        tmp_path, plugins=["core", "translate"], translator=translator, plugin_config={"translate": config}
    )
    return bot


@pytest.fixture
async def bot(tmp_path):
    bot = await start(tmp_path, fake_translator())
    yield bot
    await bot.stop()


def group(bot: TestBot) -> str:
    """A room of three (auto mode by default): translations have readers."""
    return bot.rooms.add_room(members=[ANNA, BERND, CARLA])


async def test_dutch_becomes_german_and_german_dutch(bot):
    room = group(bot)
    replies = await bot.say(ANNA, NL, room=room)
    assert len(replies) == 1
    assert replies[0].body.endswith(f"{NL} [de]")
    assert replies[0].relates_to["rel_type"] == "m.thread"  # in the message's thread
    replies = await bot.say(BERND, DE, room=room)
    assert [r.body.rsplit(" ", 1)[-1] for r in replies] == ["[nl]"]


async def test_english_goes_into_both_configured_languages(bot):
    room = group(bot)
    replies = await bot.say(ANNA, EN, room=room)
    assert sorted(r.body.rsplit(" ", 1)[-1] for r in replies) == ["[de]", "[nl]"]


async def test_english_targets_come_from_the_config(tmp_path):
    bot = await start(tmp_path, fake_translator(), english_targets=["de"])
    try:
        replies = await bot.say(ANNA, EN, room=group(bot))
        assert [r.body.rsplit(" ", 1)[-1] for r in replies] == ["[de]"]
    finally:
        await bot.stop()


async def test_no_translation_where_nobody_needs_one(bot):
    room = group(bot)
    assert await bot.say(ANNA, "Ja hoor", room=room) == []  # too short
    assert await bot.say(ANNA, "!ping", room=room) != []  # a command: answered, not translated
    assert "[de]" not in (await bot.say(ANNA, "!ping", room=room)).text
    assert await bot.say(ANNA, NL, room=bot.open_chat(ANNA)) == []  # a direct chat with the bot
    reactions_room = bot.theme_room("knowledge")  # themes.yaml: translation on reactions
    for user in (ANNA, BERND, CARLA):
        bot.rooms.add_member(reactions_room, user)
    assert await bot.say(ANNA, NL, room=reactions_room) == []


async def test_a_flag_reaction_translates_in_a_reactions_room_only(bot):
    knowledge = bot.theme_room("knowledge")
    auto = group(bot)
    for room in (knowledge, auto):
        for user in (ANNA, BERND, CARLA):
            bot.rooms.add_member(room, user)
    await bot.say(ANNA, NL, room=knowledge)
    message = next(reversed(bot.rooms.messages))
    replies = await bot.react(BERND, message, "🇩🇪", room=knowledge)
    assert [r.body.rsplit(" ", 1)[-1] for r in replies] == ["[de]"]
    assert await bot.react(CARLA, message, "🇩🇪", room=knowledge) == []  # there already: no second copy
    # In an auto room a flag is just a reaction (not even an answer that there is no nl→en model).
    auto_replies = await bot.say(ANNA, NL, room=auto)
    assert len(auto_replies) == 1
    assert await bot.react(BERND, next(reversed(bot.rooms.messages)), "🇬🇧", room=auto) == []


async def test_translate_command_into_the_named_language_or_says_already(bot):
    room = group(bot)
    refused = await bot.say(ANNA, "!vertaal modus off", room=room)  # needs a room moderator
    assert refused.text.startswith(bot.i18n.t("nl", "core.error.forbidden", command="!vertaal")[:20])
    bot.rooms.set_power(room, ANNA, 50)
    assert (await bot.say(ANNA, "!vertaal modus off", room=room)).text == bot.i18n.t("nl", "translate.mode.off")
    assert await bot.say(ANNA, NL, room=room) == []  # off: no automatic translation
    source = next(reversed(bot.rooms.messages))
    replies = await bot.say(BERND, "!translate de", room=room, reply_to=source)
    assert [r.body.rsplit(" ", 1)[-1] for r in replies] == ["[de]"]
    assert replies[0].reply_to == source
    already = await bot.say(BERND, "!translate nl", room=room, reply_to=source)
    assert already.text == bot.i18n.t("nl", "translate.already", language=bot.i18n.t("nl", "core.language.nl"))


async def test_translate_me_off_stops_translating_my_messages(bot):
    room = group(bot)
    reply = await bot.say(ANNA, "!vertaal mij uit", room=room)
    assert reply.text == bot.i18n.t("nl", "translate.me.off")
    assert await bot.say(ANNA, NL, room=room) == []
    assert await bot.say(BERND, NL, room=room) != []


@pytest.mark.parametrize("translator", ["disabled", "no model"])
async def test_without_a_model_every_command_says_so(tmp_path, translator):
    bot = await start(tmp_path, None if translator == "disabled" else fake_translator(pairs=()))
    t = bot.i18n.t
    try:
        room = group(bot)
        assert await bot.say(ANNA, NL, room=room) == []  # auto mode, but nothing to translate with
        source = next(reversed(bot.rooms.messages))
        assert (await bot.say(BERND, "!vertaal", room=room, reply_to=source)).text == t("nl", "translate.no_model")
        need_reply = await bot.say(BERND, "!vertaal", room=room)
        assert need_reply.text.startswith(t("nl", "translate.need_reply"))
        status = await bot.say(BERND, "!vertaal status", room=room)
        assert t("nl", "translate.status.mode", mode=t("nl", "translate.mode_name.auto")) in status.text
        assert t("nl", "translate.no_model") in status.text
        assert (await bot.say(BERND, "!vertaal mij uit", room=room)).text == t("nl", "translate.me.off")
        bot.rooms.set_power(room, BERND, 50)
        assert (await bot.say(BERND, "!vertaal modus reactions", room=room)).text == t("nl", "translate.mode.reactions")
        flagged = await bot.react(CARLA, source, "🇩🇪", room=room)
        # Switched off: a flag is just a reaction. No model: the reaction is answered like the command.
        assert flagged.text == ("" if translator == "disabled" else t("nl", "translate.no_model"))
    finally:
        await bot.stop()


async def test_status_lists_the_routes_of_the_installed_models(tmp_path):
    bot = await start(tmp_path, fake_translator(pairs=[("nl", "en"), ("en", "de"), ("de", "nl")]))
    t = bot.i18n.t
    try:
        status = (await bot.say(ANNA, "!vertaal status", room=group(bot))).text
        assert f"NL→DE: {t('nl', 'translate.status.pivot')}" in status
        assert f"DE→NL: {t('nl', 'translate.status.direct')}" in status
        assert f"EN→NL: {t('nl', 'translate.status.missing')}" in status
    finally:
        await bot.stop()
