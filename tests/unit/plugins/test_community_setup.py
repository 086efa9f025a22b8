"""The community plugin's first set-up through the test harness (rooms made
at the fake Matrix edge): the space and one room per theme, each once, also
when the homeserver fails half-way and the set-up runs again."""

from __future__ import annotations

import pytest

from diabot.errors import TransientError
from diabot.testing import TestBot

ADMIN = "@admin:x"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(
        tmp_path, plugins=["core", "community"], themes=False, start_plugins=False, config={"bot": {"admins": [ADMIN]}}
    )
    yield bot
    await bot.stop()


async def test_the_first_set_up_makes_the_space_and_each_themed_room_once(bot):
    community = bot.plugin("community")
    await community.ensure_rooms()
    await community.ensure_rooms()  # every start runs it again
    slugs = list(bot.directory.configured)
    intents = [room.intent for room in bot.rooms.created]
    assert intents == ["community.space", *(f"community.theme.{slug}" for slug in slugs)]
    space = bot.directory.space_id
    assert space == bot.rooms.created[0].room_id and bot.rooms.created[0].space
    rooms = {room.intent: room for room in bot.rooms.created}
    assert rooms["community.theme.energy"].join_rule == "restricted"  # members of the space may join
    assert rooms["community.theme.workgroup"].join_rule == "invite"  # invite-only theme
    assert all(room.parent == space for room in bot.rooms.created[1:])
    assert [t.slug for t in bot.directory.themes()] == slugs
    assert (space, ADMIN) in bot.rooms.invites


async def test_a_failure_half_way_is_resumed_without_a_duplicate(bot):
    community = bot.plugin("community")
    bot.rooms.fail("create_room", TransientError("homeserver 502"), after=3)  # the space and two rooms made
    with pytest.raises(TransientError):
        await community.ensure_rooms()
    assert len(bot.rooms.created) == 3
    await community.ensure_rooms()
    intents = [room.intent for room in bot.rooms.created]
    assert len(intents) == len(set(intents)) == 1 + len(bot.directory.configured)
    assert len(bot.directory.themes()) == len(bot.directory.configured)


async def test_rooms_lists_the_themes_for_members(bot):
    await bot.plugin("community").ensure_rooms()
    reply = await bot.say(ADMIN, "!ruimtes", room=bot.open_chat(ADMIN))
    for theme in bot.directory.themes():
        assert theme.name("nl") in reply.text
