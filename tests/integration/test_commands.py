"""Commands against a real Synapse, answered by the real bot process."""

import pytest

from .helpers import replies_to, room_with_bot, wait_membership

pytestmark = pytest.mark.integration


@pytest.fixture
def bot(make_bot):
    return make_bot().start()


def assert_notice(event: dict) -> None:
    content = event["content"]
    assert content["msgtype"] == "m.notice"
    assert content["m.mentions"] == {}, "bot output must never ping"


async def test_ping_in_plain_room(bot, users):
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    event_id = await anna.send(room, "!ping")
    reply = await anna.reply_to(event_id, bot.user_id, room)
    assert_notice(reply)
    assert reply["content"]["body"] == "Pong!"
    assert "m.relates_to" in reply["content"] and reply["content"]["m.relates_to"].get("rel_type") is None


async def test_ping_in_encrypted_room(bot, users):
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id, encrypted=True)
    event_id = await anna.send(room, "!ping")
    reply = await anna.reply_to(event_id, bot.user_id, room, timeout=30)
    assert_notice(reply)
    assert reply["content"]["body"] == "Pong!"
    # It reached anna through megolm: the test client records how it arrived.
    assert reply["_encrypted"] is True
    assert anna.client.rooms[room].encrypted


async def test_encrypted_dm(bot, users):
    """Element encrypts DMs by default: a DM room with is_direct and encryption."""
    bernd = await users("bernd")
    resp = await bernd.client.room_create(
        is_direct=True,
        invite=[bot.user_id],
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
        ],
    )
    room = resp.room_id
    await wait_membership(bernd, room, bot.user_id)
    event_id = await bernd.send(room, "!ping")
    reply = await bernd.reply_to(event_id, bot.user_id, room, timeout=30)
    assert reply["content"]["body"] == "Pong!"


async def test_command_in_thread_is_answered_in_thread(bot, users):
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    root = await anna.send(room, "Let's discuss the energy fair")
    event_id = await anna.send(room, "!ping", thread_root=root)
    reply = await anna.reply_to(event_id, bot.user_id, room)
    rel = reply["content"]["m.relates_to"]
    assert rel["rel_type"] == "m.thread" and rel["event_id"] == root
    assert rel["is_falling_back"] is False


async def test_help_in_dutch_and_german(bot, users):
    mod, anna, bernd = await users("mod"), await users("anna"), await users("bernd")
    room = await room_with_bot(mod, bot.user_id)
    for member in (anna, bernd):
        await mod.client.room_invite(room, member.user_id)
        await wait_membership(member, room, member.user_id)

    set_nl = await anna.send(room, "!taal nl")
    assert "Nederlands" in (await anna.reply_to(set_nl, bot.user_id, room))["content"]["body"]
    help_nl = await anna.send(room, "!hulp")
    body = (await anna.reply_to(help_nl, bot.user_id, room))["content"]["body"]
    assert "Wat ik voor je kan doen" in body and "!taal" in body and "Controleer of ik luister" in body
    assert "!roomlang" not in body and "!kamertaal" not in body  # moderator-only, anna is not one

    set_de = await bernd.send(room, "!sprache de")
    assert "Deutsch" in (await bernd.reply_to(set_de, bot.user_id, room))["content"]["body"]
    help_de = await bernd.send(room, "!hilfe sprache")
    body = (await bernd.reply_to(help_de, bot.user_id, room))["content"]["body"]
    assert "!sprache" in body and "Zeigt oder wählt die Sprache" in body

    mod_help = await mod.send(room, "!help")
    body = (await mod.reply_to(mod_help, bot.user_id, room))["content"]["body"]
    assert "!roomlang" in body  # moderators see their commands too


async def test_unknown_command_and_usage_error_in_user_language(bot, users):
    bernd = await users("bernd")
    room = await room_with_bot(bernd, bot.user_id)
    await bernd.reply_to(await bernd.send(room, "!sprache de"), bot.user_id, room)
    unknown = await bernd.send(room, "!pnig")
    body = (await bernd.reply_to(unknown, bot.user_id, room))["content"]["body"]
    assert "kenne ich nicht" in body and "!ping" in body
    bad = await bernd.send(room, "!sprache fr")
    body = (await bernd.reply_to(bad, bot.user_id, room))["content"]["body"]
    assert "„fr“" in body and "!sprache [nl|de|en]" in body


async def test_moderator_command_power_levels(bot, users):
    mod, bernd = await users("mod"), await users("bernd")
    room = await room_with_bot(mod, bot.user_id)
    await mod.client.room_invite(room, bernd.user_id)
    await wait_membership(mod, room, bernd.user_id)

    refused = await bernd.send(room, "!roomlang de")
    body = (await bernd.reply_to(refused, bot.user_id, room))["content"]["body"]
    assert "moderator" in body.lower()

    await mod.set_power(room, bernd.user_id, 50)
    await bernd.wait_until(lambda: bernd.client.rooms[room].power_levels.get_user_level(bernd.user_id) == 50, 10)
    accepted = await bernd.send(room, "!roomlang de")
    body = (await bernd.reply_to(accepted, bot.user_id, room))["content"]["body"]
    assert "German" in body
    # bernd chose no language himself, so the room's default now applies to him.
    help_event = await bernd.send(room, "!help")
    assert "Was ich für Sie tun kann" in (await bernd.reply_to(help_event, bot.user_id, room))["content"]["body"]

    await mod.set_power(room, bernd.user_id, 0)  # demotion takes effect at once
    await bernd.wait_until(lambda: bernd.client.rooms[room].power_levels.get_user_level(bernd.user_id) == 0, 10)
    again = await bernd.send(room, "!raumsprache nl")  # a German command word: answered in German
    body = (await bernd.reply_to(again, bot.user_id, room))["content"]["body"]
    assert "Nur Moderatoren" in body


async def test_room_v12_creator_counts_as_moderator(bot, users):
    mod = await users("mod")
    room = await mod.create_room(invite=[bot.user_id], room_version="12")
    await wait_membership(mod, room, bot.user_id)
    event_id = await mod.send(room, "!roomlang en")
    body = (await mod.reply_to(event_id, bot.user_id, room))["content"]["body"]
    assert "default language" in body


async def test_invite_from_stranger_is_declined(bot, users):
    stranger = await users("stranger")
    room = await stranger.create_room(invite=[bot.user_id])
    await wait_membership(stranger, room, bot.user_id, membership="leave")
    assert "declined invite" in bot.log_text()


async def test_invite_into_room_with_old_commands_answers_only_new(bot, users):
    anna = await users("anna")
    room = await anna.create_room()
    old = [await anna.send(room, "!ping") for _ in range(3)]
    await anna.client.room_invite(room, bot.user_id)
    await wait_membership(anna, room, bot.user_id)
    new = await anna.send(room, "!ping")
    await anna.reply_to(new, bot.user_id, room)
    # Give the bot time to (wrongly) answer history before checking.
    await anna.send(room, "!ping")
    await anna.wait_for_events(bot.user_id, room, count=2)
    for event_id in old:
        assert replies_to(anna, bot.user_id, room, event_id) == []


async def test_bot_ignores_notices_and_itself(bot, users):
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    notice = await anna.send(room, "!ping", msgtype="m.notice")
    marker = await anna.send(room, "!ping")
    await anna.reply_to(marker, bot.user_id, room)
    assert replies_to(anna, bot.user_id, room, notice) == []
    assert len(anna.from_sender(bot.user_id, room)) == 1


async def test_health_and_metrics(bot, users):
    status, body = bot.health()
    assert status == 200 and body["database"] == "ok" and body["sync"]["ok"] is True
    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id)
    await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room)
    metrics = bot.metrics()
    assert 'diabot_commands_total{command="ping"}' in metrics
    assert "diabot_sync_lag_seconds" in metrics
