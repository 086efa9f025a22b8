"""Rooms are created once, whatever moment the bot is stopped at (real
Synapse, SIGKILL-like stops through the `after-create-room:<intent>`
failpoint: the room exists on the homeserver, its id is not yet recorded).
The rooms are opened by the test plugin `roomtest` (tests/support/roomtest)."""

import asyncio
import uuid

import pytest

from .helpers import room_with_bot

pytestmark = pytest.mark.integration

PLUGINS = {"plugins": {"core": {}, "roomtest": {}}}


async def killed_by_failpoint(bot) -> None:
    for _ in range(150):
        if bot.proc.poll() is not None:
            break
        await asyncio.sleep(0.2)
    assert bot.proc.returncode == 137, "the failpoint did not fire"


async def answered_room(user, bot_id, room, command) -> str:
    reply = await user.reply_to(await user.send(room, command), bot_id, room, timeout=60)
    return reply["content"]["body"].split()[-1]


def rooms_with(user, bot_id, earlier: set[str]) -> set[str]:
    """Rooms shared with the bot (joined or invited) that did not exist before the test step."""
    joined = {r for r, room in user.client.rooms.items() if bot_id in room.users}
    return (joined | set(user.client.invited_rooms)) - earlier


async def test_a_stop_right_after_opening_a_direct_chat_reuses_it(make_bot, users):
    anna = await users("anna")
    bot = make_bot(extra=PLUGINS).start()
    room = await room_with_bot(anna, bot.user_id)
    earlier = set(anna.client.rooms) | set(anna.client.invited_rooms)
    bot.arm_failpoint(f"after-create-room:direct:{anna.user_id}")
    asked = await anna.send(room, "roomtest dm")
    await killed_by_failpoint(bot)
    await anna.wait_until(lambda: rooms_with(anna, bot.user_id, earlier), 30)  # the invite came before the stop
    bot.start()
    # The command was not recorded as handled: the restart replays it and finds the room by its marker.
    dm = (await anna.reply_to(asked, bot.user_id, room, timeout=60))["content"]["body"].split()[-1]
    assert await answered_room(anna, bot.user_id, room, "roomtest dm") == dm
    await anna.wait_until(lambda: dm in anna.client.rooms, 30)
    await asyncio.sleep(2)  # a second invite would be here by now
    assert rooms_with(anna, bot.user_id, earlier) == {dm}
    assert anna.client.rooms[dm].encrypted
    assert "reusing a room found by its creation marker" in bot.log_text()


async def test_a_stop_right_after_creating_a_room_for_an_intent_reuses_it(make_bot, users):
    anna = await users("anna")
    bot = make_bot(extra=PLUGINS).start()
    room = await room_with_bot(anna, bot.user_id)
    intent = f"test.generic.{uuid.uuid4().hex[:6]}"
    earlier = set(anna.client.rooms) | set(anna.client.invited_rooms)
    bot.arm_failpoint(f"after-create-room:{intent}")
    asked = await anna.send(room, f"roomtest room {intent}")
    await killed_by_failpoint(bot)
    bot.start()
    made = (await anna.reply_to(asked, bot.user_id, room, timeout=60))["content"]["body"].split()[-1]
    # Stopped again at once (a clean stop this time) and started: the recorded room, no marker search.
    assert bot.stop() == 0
    bot.start()
    assert await answered_room(anna, bot.user_id, room, f"roomtest room {intent}") == made
    await anna.wait_until(lambda: made in anna.client.rooms, 30)
    await asyncio.sleep(2)
    assert rooms_with(anna, bot.user_id, earlier) == {made}
