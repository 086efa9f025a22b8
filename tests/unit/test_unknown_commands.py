"""An unknown command: in a shared room answered only with a close suggestion
(other bots there own their own `!` commands); in a chat with the bot, always."""

from __future__ import annotations

import pytest

from diabot.testing import TestBot

ANNA, BERND = "@anna:example.org", "@bernd:example.org"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core"], config={"bot": {"default_language": "nl"}})
    yield bot
    await bot.stop()


async def test_unknown_commands_in_a_room_and_in_a_direct_chat(bot):
    shared = bot.rooms.add_room(members=[ANNA, BERND])
    assert await bot.say(ANNA, "!remindme 5m koffie", room=shared) == []  # another bot's command: silence
    suggested = await bot.say(ANNA, "!hlep", room=shared)
    assert suggested.text == bot.i18n.t("nl", "core.error.unknown_suggest", name="hlep", suggestion="!help")
    alone = bot.rooms.add_room(members=[ANNA])
    unknown = await bot.say(ANNA, "!remindme 5m koffie", room=alone)
    assert unknown.text == bot.i18n.t("nl", "core.error.unknown", name="remindme", help="!help")
