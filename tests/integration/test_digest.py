"""The digest and the working document against a real Synapse, in one
scenario on one bot start and one restart: a member's digest falls due while
the bot is down and reaches their phone once after the start (an m.text that
GET /notifications lists), made of what happened since their choice; a
moderator's !report posts the Markdown, the CSV and the PNG chart."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from .helpers import wait_membership

pytestmark = pytest.mark.integration
POLL_END = "org.matrix.msc3381.poll.end"


async def notifications(homeserver: str, token: str) -> list[dict]:
    url = f"{homeserver}/_matrix/client/v3/notifications"
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200
        return (await resp.json())["notifications"]


def bot_messages(user, bot_id: str, room: str | None = None) -> list[dict]:
    return user.from_sender(bot_id, room)


async def test_digest_reaches_the_phone_once_after_downtime_and_report_posts_three_files(
    make_bot, users, accounts, synapse
):
    mod, anna = await users("mod"), await users("anna")
    bot_id = accounts["bot"]["user_id"]
    network = await mod.create_room(invite=[bot_id, anna.user_id], name="network")  # also the community space
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "polls": {}, "digest": {"hour": 8}},
            "invites": {"allow_users": [accounts["mod"]["user_id"], anna.user_id], "space": network},
            "bot": {"default_language": "en"},
        }
    ).start()
    for who in (bot_id, anna.user_id):
        await wait_membership(mod, network, who)

    # ---- anna chooses a daily digest in the community room: her private chat with the bot opens now
    await anna.send(network, "!digest daily")

    def private_chat() -> str | None:
        return next(
            (e["room_id"] for e in bot_messages(anna, bot_id) if "arrive here" in e["content"].get("body", "")), None
        )

    await anna.wait_until(lambda: private_chat() is not None, 30)
    dm = private_chat()
    assert dm is not None and dm != network
    await wait_membership(anna, dm, anna.user_id)

    # ---- something new for her: a poll in a room she is in closes
    await anna.send(network, '!poll "Treffen in Meppen?" "Ja" "Nein"')
    await anna.wait_until(lambda: bool(anna.from_sender(bot_id, network, "org.matrix.msc3381.poll.start")), 30)
    await anna.send(network, "!poll close")
    await anna.wait_for_events(bot_id, network, type_=POLL_END, timeout=30)

    # ---- the bot is down when the digest falls due; after the start it goes out once
    assert bot.stop() == 0
    with sqlite3.connect(bot.workdir / "data" / "diabot.db") as db:
        due = (datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None).isoformat(sep=" ")
        assert db.execute("UPDATE digest_settings SET next_at = ? WHERE user_id = ?", (due, anna.user_id)).rowcount
    bot.start()

    def digests() -> list[dict]:
        return [e for e in bot_messages(anna, bot_id, dm) if "Treffen in Meppen?" in e["content"].get("body", "")]

    await anna.wait_until(lambda: bool(digests()), 60)
    (digest,) = digests()
    assert digest["content"]["msgtype"] == "m.text"  # a notice would never ring
    assert digest["content"]["m.mentions"] == {"user_ids": [anna.user_id]}
    assert "Your digest" in digest["content"]["body"] and "Poll results" in digest["content"]["body"]
    pinged = await notifications(synapse.url, accounts["anna"]["access_token"])
    assert digest["event_id"] in [n["event"]["event_id"] for n in pinged]

    # ---- the working document: three files in the room
    await mod.send(network, "!report")

    def files() -> list[dict]:
        return [e for e in bot_messages(mod, bot_id, network) if e["content"].get("msgtype") in ("m.file", "m.image")]

    await mod.wait_until(lambda: len(files()) >= 3, 60)
    kinds = {e["content"]["body"].rsplit(".", 1)[1]: e["content"] for e in files()}
    assert set(kinds) == {"md", "csv", "png"}
    png = kinds["png"]
    assert png["msgtype"] == "m.image" and png["info"]["mimetype"] == "image/png" and png["info"]["w"] > 0
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{synapse.url}/_matrix/client/v1/media/download/{png['url'].removeprefix('mxc://')}",
            headers={"Authorization": f"Bearer {accounts['mod']['access_token']}"},
        ) as resp,
    ):
        assert resp.status == 200
        assert (await resp.read())[:8] == b"\x89PNG\r\n\x1a\n"

    # Never twice: the digest is still the only one.
    await asyncio.sleep(2)
    assert len(digests()) == 1
    assert bot.stop() == 0
