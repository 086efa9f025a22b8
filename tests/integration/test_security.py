"""The attacks of the security review, performed against a real Synapse, now
failing to do harm: a member acting as moderator in her own DM or room, a
stranger reaching member features, personal data in a two-person room, one
user flooding the bot."""

from __future__ import annotations

import asyncio

import pytest

from .helpers import room_with_bot, wait_membership
from .test_members import answer, community_bot, dm_with_greeting, join_space, room_named, space_of

pytestmark = pytest.mark.integration

MOD_COMMANDS = (
    "!announce energy Free grants for everyone",
    "!room topic energy Overgenomen Übernommen",
    "!room archive trade",
    '!room create evil "[Free grants](https://evil.example)" Evil',
)


async def test_a_member_is_no_moderator_in_her_dm_or_her_own_room(make_bot, users, accounts):
    mod, anna = await users("mod"), await users("anna")
    since = len(anna.events)  # greetings of earlier tests' bots
    bot = community_bot(make_bot, accounts, mod)
    await join_space(mod, anna)
    dm = await dm_with_greeting(anna, bot.user_id, since=since)

    # The bot's DM gives her no power (trusted_private_chat made her a v12 creator).
    state = await anna.client.room_get_state(dm)
    create = next(e for e in state.events if e["type"] == "m.room.create")
    assert anna.user_id not in (create["content"].get("additional_creators") or []) and create["sender"] == bot.user_id
    levels = next(e for e in state.events if e["type"] == "m.room.power_levels")["content"]
    assert levels.get("users", {}).get(anna.user_id, levels.get("users_default", 0)) == 0

    own = await anna.create_room(invite=[bot.user_id], room_version="12", name="Anna's own room")  # she is its creator
    await wait_membership(anna, own, bot.user_id)
    for room in (dm, own):
        for text in MOD_COMMANDS:
            body = await answer(anna, room, bot.user_id, text)
            assert "Only moderators of the community" in body, (room, text, body)
        help_text = await answer(anna, room, bot.user_id, "!help")
        assert "!ping" in help_text and "announce" not in help_text and "room create" not in help_text
    # Room-scoped settings of her own room stay hers.
    assert "English" in await answer(anna, own, bot.user_id, "!roomlang en")

    energy = room_named(mod, "Energietransitie")
    await asyncio.sleep(2)
    assert not [e for e in mod.from_sender(bot.user_id, energy) if "Free grants" in e["content"].get("body", "")]
    assert room_named(mod, "Evil") is None
    # A real moderator still can, from anywhere (here: a plain room).
    plain = await room_with_bot(mod, bot.user_id)
    assert "1" in await answer(mod, plain, bot.user_id, "!announce energy Netwerkborrel vrijdag")


async def test_a_stranger_in_a_public_room_reaches_no_member_feature(make_bot, users, accounts):
    mod, anna, stranger = await users("mod"), await users("anna"), await users("stranger")
    bot = community_bot(make_bot, accounts, mod)
    await space_of(mod)
    public = (
        await mod.client.room_create(
            name="Open lobby", invite=[bot.user_id], preset=__import__("nio").RoomPreset.public_chat
        )
    ).room_id
    await wait_membership(mod, public, bot.user_id)
    await stranger.client.join(public)
    await wait_membership(stranger, public, stranger.user_id)
    rooms_before = set(stranger.client.rooms)

    for text in ("!members energy", "!join werkgroep", "!onboarding", "!rooms", "!profile"):
        body = await answer(stranger, public, bot.user_id, text)
        assert "for members of the community" in body, (text, body)
    await asyncio.sleep(3)
    assert set(stranger.client.rooms) == rooms_before  # no invite, no DM opened

    # A member gets no directory in a room strangers can read either.
    await join_space(mod, anna)
    await anna.client.join(public)
    await wait_membership(anna, public, anna.user_id)
    body = await answer(anna, public, bot.user_id, "!members energy")
    assert "do not show member data in a room that anyone can join" in body


async def test_personal_data_only_in_the_recorded_direct_chat(make_bot, users, accounts):
    """A moderator's !mydata in a room with two people today (a themed room, say)
    posted the export unencrypted for everyone who joins later."""
    mod = await users("mod")
    bot = community_bot(make_bot, accounts, mod)
    await space_of(mod)
    two = await room_with_bot(mod, bot.user_id)
    body = await answer(mod, two, bot.user_id, "!mydata")
    assert "only works in our private chat" in body
    await asyncio.sleep(2)
    assert not [e for e in mod.from_sender(bot.user_id, two) if e["content"].get("msgtype") == "m.file"]
    assert "only works in our private chat" in await answer(mod, two, bot.user_id, "!forget")


async def test_one_user_flooding_commands_does_not_silence_the_bot(make_bot, users, accounts):
    anna, mod = await users("anna"), await users("mod")
    bot = make_bot(
        extra={
            "bot": {
                "default_language": "en",
                "admins": [accounts["mod"]["user_id"]],
                "rate_limits": {"commands": "10/minute"},
            }
        }
    ).start()
    room = await room_with_bot(anna, bot.user_id)
    await anna.client.room_invite(room, mod.user_id)
    await wait_membership(anna, room, mod.user_id)
    for _ in range(40):
        await anna.send(room, "!help")
    ping = await mod.send(room, "!ping")
    assert (await mod.reply_to(ping, bot.user_id, room, timeout=60))["content"]["body"] == "Pong!"
    await asyncio.sleep(3)
    to_anna = [e["content"]["body"] for e in anna.from_sender(bot.user_id, room) if e["content"].get("body") != "Pong!"]
    slow = [b for b in to_anna if "a lot of commands" in b]
    assert len(slow) == 1 and len(to_anna) == 11, [b[:30] for b in to_anna]
    assert "diabot_rate_limited_total 30.0" in bot.metrics()
