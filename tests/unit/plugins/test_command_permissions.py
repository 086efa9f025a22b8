"""Who may run which command, through the test harness: a member against a
moderator of the community on a moderator command, a room's own moderator,
bot.admins, a non-member on a member command, and a Role from the config."""

from __future__ import annotations

import pytest

from diabot.commands import command
from diabot.context import Context
from diabot.permissions import Role
from diabot.plugin import Plugin, PluginConfig
from diabot.testing import TestBot

ANNA, MOD, ADMIN, STRANGER, WG = "@anna:x", "@mod:x", "@admin:x", "@stranger:y", "@wg:x"


class Workgroup(Plugin[PluginConfig]):
    """A plugin of the test's own, with a command for a role."""

    name = "wgtest"

    @command("wg", help="core.ping.help", perm=Role("workgroup"))
    async def wg(self, ctx: Context) -> None:
        ctx.reply("core.ping.pong")


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(
        tmp_path,
        plugins=["core", "members", Workgroup],
        config={"bot": {"admins": [ADMIN]}, "roles": {"workgroup": {"room": "workgroup", "users": ["@listed:x"]}}},
    )
    bot.add_member(ANNA)
    bot.make_moderator(MOD)
    yield bot
    await bot.stop()


def forbidden(bot: TestBot, name: str) -> str:
    return bot.i18n.t("nl", "core.error.forbidden", command=f"!{name}")


async def test_a_moderator_command_refuses_a_member_and_runs_for_a_moderator(bot):
    room = bot.open_chat(ANNA)
    refused = await bot.say(ANNA, "!mededeling Morgen vergadering", room=room)
    assert refused.text == forbidden(bot, "mededeling")
    assert bot.sent(room=bot.theme_room("energy")) == []
    done = await bot.say(MOD, "!mededeling Morgen vergadering", room=bot.open_chat(MOD))
    themed = [t.room_id for t in bot.directory.themes()]
    assert done.text.endswith(bot.i18n.t("nl", "members.announce.done", count=len(themed)))
    assert {s.room_id for s in done if "Morgen vergadering" in s.body} == set(themed)


async def test_power_in_the_room_typed_in_is_no_community_power(bot):
    own = bot.open_chat(ANNA)
    bot.rooms.set_power(own, ANNA, 100)  # her own room: she is its admin
    assert (await bot.say(ANNA, "!statistiek", room=own)).text == forbidden(bot, "statistiek")
    bot.rooms.set_power(bot.space, ANNA, 49)  # just below moderator level in the space
    assert (await bot.say(ANNA, "!statistiek", room=own)).text == forbidden(bot, "statistiek")
    bot.rooms.set_power(bot.space, ANNA, 50)
    assert bot.i18n.t("nl", "members.stats.title") in (await bot.say(ANNA, "!statistiek", room=own)).text


async def test_bot_admins_are_moderators_without_power_anywhere(bot):
    stats = await bot.say(ADMIN, "!statistiek", room=bot.open_chat(ADMIN))
    assert bot.i18n.t("nl", "members.stats.title") in stats.text


async def test_a_room_moderator_command_is_decided_in_that_room(bot):
    own = bot.open_chat(ANNA)
    assert (await bot.say(ANNA, "!kamertaal de", room=bot.theme_room("energy"))).text == forbidden(bot, "kamertaal")
    bot.rooms.set_power(own, ANNA, 50)
    set_here = await bot.say(ANNA, "!kamertaal de", room=own)
    assert set_here.text == bot.i18n.t("nl", "core.roomlang.set", language=bot.i18n.t("nl", "core.language.de"))
    # The room's language now (she chose none of her own) ...
    async with bot.db.sessions() as session:
        assert await bot.services.languages.for_user(session, ANNA, own) == "de"
    # ... but a Dutch command word is answered in Dutch.
    current = (await bot.say(ANNA, "!taal", room=own)).text
    assert current == bot.i18n.t("nl", "core.lang.current", language=bot.i18n.t("nl", "core.language.nl"))


async def test_member_commands_are_for_members_of_the_space(bot):
    room = bot.open_chat(STRANGER)
    refused = await bot.say(STRANGER, "!profiel", room=room)
    assert refused.text == bot.i18n.t("nl", "core.error.members_only", command="!profiel")
    assert (await bot.say(STRANGER, "!ping", room=room)).text == bot.i18n.t("nl", "core.ping.pong")  # anyone
    bot.rooms.add_member(bot.space, STRANGER, "invite")  # an invitation is a moderator's word
    assert (await bot.say(STRANGER, "!profiel", room=room)).text == bot.i18n.t("nl", "members.profile.none")


async def test_a_role_from_the_config_by_room_and_by_user(bot):
    pong = bot.i18n.t("nl", "core.ping.pong")
    room = bot.open_chat(ANNA)
    assert (await bot.say(ANNA, "!wg", room=room)).text == forbidden(bot, "wg")
    bot.rooms.add_member(bot.theme_room("workgroup"), WG, "invite")  # invited is not yet a member of the group
    assert (await bot.say(WG, "!wg", room=bot.open_chat(WG))).text == forbidden(bot, "wg")
    await bot.join(WG, bot.theme_room("workgroup"))
    assert (await bot.say(WG, "!wg", room=bot.open_chat(WG))).text == pong
    assert (await bot.say("@listed:x", "!wg", room=bot.open_chat("@listed:x"))).text == pong
    assert (await bot.say(MOD, "!wg", room=bot.open_chat(MOD))).text == pong  # moderators have every role
