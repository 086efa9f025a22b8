"""The bot and a client that enforces Element's rule (matrix-js-sdk 43,
OnlySignedDevicesIsolationMode, its own device cross-signed): they read each
other in an encrypted DM and room, across a restart and a new bot device; and
before the bot signs its device, a member's message it cannot read gets one
answer asking to send it again."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.js_user import JsUser

from .helpers import wait_membership

pytestmark = pytest.mark.integration


@pytest.fixture
async def strict_anna(synapse, accounts, tmp_path):
    """anna (allowed to invite the bot) on a new js-sdk device in strict mode."""
    user = JsUser(synapse.url, accounts["anna"]["user_id"], "pw-anna", mode="strict", log_path=tmp_path / "anna-js.log")
    await user.start()
    assert user.info["cross_signing_ready"] and user.info["signed_by_owner"], user.info
    yield user
    await user.close()


async def ping(user: JsUser, room: str, bot_id: str, timeout: float = 45) -> dict:
    sent = await user.send(room, "!ping")
    reply = await user.reply_to(sent, bot_id, timeout=timeout)
    assert reply["content"]["body"] == "Pong!"
    assert (reply["encrypted"], reply["decrypted"], reply["failure"]) == (True, True, None)
    assert reply["shield"] is None or reply["shield"]["colour"] == "NONE", reply["shield"]
    return reply


async def bot_devices(user: JsUser, bot_id: str) -> dict[str, bool]:
    return {d["device_id"]: d["signed_by_owner"] for d in await user.devices(bot_id)}


async def test_strict_client_and_bot_read_each_other(make_bot, strict_anna, tmp_path):
    bot = make_bot().start()
    dm = await strict_anna.create_room(invite=[bot.user_id], is_direct=True)
    room = await strict_anna.create_room(invite=[bot.user_id], name="strict room")
    for r in (dm, room):
        await strict_anna.wait_joined(r, bot.user_id)
        # The bot read anna's !ping (her key was shared with it) and she read the Pong.
        await ping(strict_anna, r, bot.user_id)

    bot.stop()  # restart, same device
    bot.start()
    await ping(strict_anna, dm, bot.user_id)

    bot.stop()  # a fresh login: a new device, signed from the keys file without UIA
    fresh = make_bot(workdir=tmp_path / "fresh-login")
    fresh.config["matrix"]["password"] = bot.config["matrix"]["password"]
    fresh.start()
    for r in (dm, room):
        await ping(strict_anna, r, fresh.user_id)
    devices = await bot_devices(strict_anna, bot.user_id)
    assert len([d for d, signed in devices.items() if signed]) >= 2, devices


async def test_unreadable_message_gets_one_answer_then_signing_fixes_it(make_bot, strict_anna, users):
    """Before: the bot's device is unsigned, anna's strict client withholds her
    key (m.unverified). The bot logs why, and asks once, in German, encrypted.
    After a restart with cross-signing, the same device reads her again."""
    bernd = await users("bernd")  # a legacy (nio) member who can read the unsigned bot
    bot = make_bot(
        extra={"matrix": {"cross_signing": False, "undecryptable_notice_after_s": 2}, "bot": {"default_language": "de"}}
    ).start()
    room = await strict_anna.create_room(invite=[bot.user_id, bernd.user_id], name="before and after")
    await strict_anna.wait_joined(room, bot.user_id)
    await strict_anna.wait_joined(room, bernd.user_id)
    await wait_membership(bernd, room, bot.user_id)

    first = await strict_anna.send(room, "!ping")
    answers = await bernd.wait_for_events(bot.user_id, room, 1, timeout=60)
    ask = answers[0]["content"]
    assert "konnte Ihre letzte Nachricht nicht lesen" in ask["body"]
    assert ask["m.relates_to"]["m.in_reply_to"]["event_id"] == first
    assert answers[0]["_encrypted"] is True
    # anna's strict client cannot read the unsigned bot either: that is the bug this fixes.
    seen = await strict_anna.wait_for(
        lambda e: (
            e.get("sender") == bot.user_id and e.get("room_id") == room and e.get("encrypted") and e.get("failure")
        ),
        30,
    )
    assert seen["failure"] == "UNSIGNED_SENDER_DEVICE"

    for text in ("hallo?", "!ping"):  # more unreadable messages: no second answer in this chat
        await strict_anna.send(room, text)
    await asyncio.sleep(8)
    assert len(bernd.from_sender(bot.user_id, room)) == 1
    log = bot.log_text()
    assert "m.unverified" in log and log.count("cannot decrypt messages of a megolm session") == 1

    bot.stop()
    bot.config["matrix"]["cross_signing"] = True
    bot.rewrite_config()
    bot.start()
    for _ in range(60):  # the js client learns of the new signature with its next device-list update
        devices = await bot_devices(strict_anna, bot.user_id)
        if all(devices.values()):
            break
        await asyncio.sleep(0.5)
    assert all(devices.values()), devices
    await ping(strict_anna, room, bot.user_id, timeout=60)
