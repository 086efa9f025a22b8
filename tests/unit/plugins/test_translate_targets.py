"""The translate plugin through the test harness: which messages are
translated into which languages, and what each command answers with
translation switched off or without a model. The real Translator runs over
a fake engine (`<sentence> [<target>]`) and a word-list language id."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from diabot.events import Message
from diabot.formatting import code_span
from diabot.testing import FakeEngine, Replies, TestBot, WordIdentifier, fake_translator
from diabot.translation import Translator
from diabot.translation.engine import Package
from diabot.translation.models_cli import install_command

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
    already = await bot.say(BERND, "!vertaal nl", room=room, reply_to=source)
    assert already.text == bot.i18n.t("nl", "translate.already", language=bot.i18n.t("nl", "core.language.nl"))


async def test_translate_me_off_stops_translating_my_messages(bot):
    room = group(bot)
    reply = await bot.say(ANNA, "!vertaal mij uit", room=room)
    assert reply.text == bot.i18n.t("nl", "translate.me.off")
    assert await bot.say(ANNA, NL, room=room) == []
    assert await bot.say(BERND, NL, room=room) != []


ALL_PAIRS = [("nl", "en"), ("en", "de"), ("de", "en"), ("en", "nl")]


def install(pairs=ALL_PAIRS):
    """The command the bot names (a bot that was not started with -c: the CLI's default config)."""
    return code_span(install_command(None, pairs))


@pytest.mark.parametrize("translator", ["disabled", "no model"])
async def test_without_a_model_every_command_says_so(tmp_path, translator):
    bot = await start(tmp_path, None if translator == "disabled" else fake_translator(pairs=()))
    t = bot.i18n.t
    no_model = t("nl", "translate.no_model", command=install())
    assert "`diabot -c config/diabot.yaml models install nl-en en-de de-en en-nl`" in no_model
    try:
        room = group(bot)
        # Auto mode, but nothing to translate with: nothing translated (the moderators' note is tested below).
        assert [r for r in await bot.say(ANNA, NL, room=room) if "[de]" in r.body] == []
        source = next(reversed(bot.rooms.messages))
        assert (await bot.say(BERND, "!vertaal", room=room, reply_to=source)).text == no_model
        need_reply = await bot.say(BERND, "!vertaal", room=room)
        assert need_reply.text.startswith(t("nl", "translate.need_reply"))
        status = await bot.say(BERND, "!vertaal status", room=room)
        assert t("nl", "translate.status.mode", mode=t("nl", "translate.mode_name.auto")) in status.text
        assert no_model in status.text
        assert (await bot.say(BERND, "!vertaal mij uit", room=room)).text == t("nl", "translate.me.off")
        bot.rooms.set_power(room, BERND, 50)
        assert (await bot.say(BERND, "!vertaal modus reactions", room=room)).text == t("nl", "translate.mode.reactions")
        flagged = await bot.react(CARLA, source, "🇩🇪", room=room)
        # Switched off: a flag is just a reaction. No model: the reaction is answered like the command.
        assert flagged.text == ("" if translator == "disabled" else no_model)
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
        assert t("nl", "translate.status.install", command=install([("en", "nl")])) in status
    finally:
        await bot.stop()


# ---- auto mode without (all) models: say so, and how to install them --------------------------


@pytest.mark.parametrize(
    "command, lang",
    [("!translate mode auto", "en"), ("!vertaal modus auto", "nl"), ("!übersetze modus automatisch", "de")],
)
async def test_auto_mode_without_models_says_how_to_install_them(tmp_path, command, lang):
    bot = await start(tmp_path, fake_translator(pairs=()))
    try:
        room = group(bot)
        bot.rooms.set_power(room, ANNA, 50)
        reply = await bot.say(ANNA, command, room=room)
        assert reply.text == bot.i18n.t(lang, "translate.mode.auto_no_model", command=install())
        assert "models install nl-en en-de de-en en-nl" in reply.text  # both directions, through English
    finally:
        await bot.stop()


async def test_auto_mode_with_some_models_names_the_missing_ones(tmp_path):
    bot = await start(tmp_path, fake_translator(pairs=[("nl", "en"), ("en", "de")]))
    try:
        room = group(bot)
        bot.rooms.set_power(room, ANNA, 50)
        reply = await bot.say(ANNA, "!vertaal modus auto", room=room)
        expected = bot.i18n.t(
            "nl",
            "translate.mode.auto_missing",
            directions="DE→NL, EN→NL",
            command=install([("de", "en"), ("en", "nl")]),
        )
        assert reply.text == expected
        # Asked for a direction it cannot do: that direction and its packages, not "no model at all".
        await bot.say(BERND, DE, room=room, event_id="$de")
        asked = await bot.say(ANNA, "!vertaal nl", room=room, reply_to="$de")
        assert asked.text == bot.i18n.t(
            "nl", "translate.missing_direction", direction="DE→NL", command=install([("de", "en"), ("en", "nl")])
        )
    finally:
        await bot.stop()


async def test_auto_mode_with_every_model_promises_translations(bot):
    room = group(bot)
    bot.rooms.set_power(room, ANNA, 50)
    assert (await bot.say(ANNA, "!vertaal modus auto", room=room)).text == bot.i18n.t("nl", "translate.mode.auto")


class InstallableEngine(FakeEngine):
    """No models until a test "installs" some on disk; the translator finds them when it looks."""

    def __init__(self) -> None:
        super().__init__(pairs=())
        self.on_disk: set[tuple[str, str]] = set()

    def reload_if_changed(self) -> bool:
        if set(self._packages) == self.on_disk:
            return False
        self._packages = {pair: cast(Package, None) for pair in self.on_disk}
        return True


def notes_for_moderators(replies: Replies) -> Replies:
    return Replies(s for s in replies if "moderat" in s.body.lower())


async def untranslated_burst(bot: TestBot, room: str, count: int) -> None:
    """`count` messages whose jobs the worker takes together (as in a busy room)."""
    worker = bot.plugins["translate"].worker
    await worker.stop()
    for i in range(count):
        text = f"{NL} nummer {i}"
        message = Message(f"$burst{i}", room, ANNA, 0, "m.room.message", {"msgtype": "m.text", "body": text}, body=text)
        await bot.dispatcher.dispatch(message)
    worker.start()
    await bot.settle()


async def test_moderators_hear_once_a_day_that_an_auto_room_is_not_translated(tmp_path):
    engine = InstallableEngine()
    bot = await start(tmp_path, Translator(engine, WordIdentifier()))
    try:
        room = group(bot)
        await untranslated_burst(bot, room, 5)
        (note,) = notes_for_moderators(bot.sent(room))
        assert note.body == bot.i18n.t(
            "nl", "translate.moderators.no_model", directions="NL→DE, DE→NL, EN→NL, EN→DE", command=install()
        )
        assert note.content["msgtype"] == "m.notice" and note.content["m.mentions"] == {}
        assert "@room" not in note.body and note.reply_to is None
        # The same day, also after a restart (the worker forgets, the ledger does not): no second note.
        assert await bot.say(BERND, DE, room=room) == []
        bot.plugins["translate"].worker._noted.clear()
        assert await bot.say(BERND, DE, room=room) == []
        # The next day, once more.
        bot.clock.advance(timedelta(days=1))
        assert len(notes_for_moderators(await bot.say(ANNA, NL, room=room))) == 1
        # Installed while the bot runs: the next message is translated, no restart, no note.
        engine.on_disk = {("nl", "de"), ("de", "nl")}
        (translated,) = await bot.say(ANNA, NL, room=room)
        assert translated.body.endswith(f"{NL} [de]")
        status = (await bot.say(ANNA, "!vertaal status", room=room)).text
        assert f"NL→DE: {bot.i18n.t('nl', 'translate.status.direct')}" in status
    finally:
        await bot.stop()
