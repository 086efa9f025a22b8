"""Which language a command is answered in: the member's choice > the language
of the command word they just typed > the room's > the default (nl here)."""

from __future__ import annotations

import pytest

from diabot.testing import TestBot

ANNA = "@anna:example.org"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "members"], config={"bot": {"default_language": "nl"}})
    yield bot
    await bot.stop()


async def test_the_command_word_decides_until_the_member_chooses(bot):
    await bot.join(ANNA, bot.space)
    room = bot.rooms.add_room(members=[ANNA])
    none = {lang: bot.i18n.t(lang, "members.profile.none") for lang in ("nl", "de", "en")}
    assert (await bot.say(ANNA, "!profil", room=room)).text == none["de"]
    assert (await bot.say(ANNA, "!profiel", room=room)).text == none["nl"]
    assert (await bot.say(ANNA, "!profile", room=room)).text == none["en"]
    # An error in a German command is German too, with the usage line in German words.
    usage = (await bot.say(ANNA, "!profil setze dorf Meppen", room=room)).text
    assert "!profil setze" in usage and "unternehmen, ort" in usage and "plaats" not in usage
    # The member's own choice wins over the word they use.
    await bot.say(ANNA, "!sprache en", room=room)
    assert (await bot.say(ANNA, "!profil", room=room)).text == none["en"]


async def test_after_forget_a_german_command_is_answered_in_german(bot):
    await bot.join(ANNA, bot.space)
    dm = bot.dm(ANNA)
    await bot.join(ANNA, dm)
    await bot.say(ANNA, "!sprache nl", room=dm)  # chose Dutch once
    await bot.say(ANNA, "!vergeet", room=dm)
    await bot.say(ANNA, "!vergeet bevestig", room=dm)  # the choice is gone with everything else
    assert (await bot.say(ANNA, "!profil", room=dm)).text == bot.i18n.t("de", "members.profile.none")
