"""Native polls against a real Synapse, with real (E2EE) members, in one
scenario on one bot account: the start event's exact shape, votes that change,
spoil and come late, a kill mid-poll with responses lost from the database
(rebuilt from /relations, decrypted), a close that fell due during the
downtime and fires once, a working-group poll a non-member cannot vote in,
and a result that reaches a voter's phone."""

import asyncio
import sqlite3
from datetime import UTC, datetime

import aiohttp
import pytest

from .helpers import wait_membership

pytestmark = pytest.mark.integration
START, RESPONSE, END = (
    "org.matrix.msc3381.poll.start",
    "org.matrix.msc3381.poll.response",
    "org.matrix.msc3381.poll.end",
)


async def vote(user, room: str, poll: str, answers: list[str]) -> str:
    content = {"m.relates_to": {"rel_type": "m.reference", "event_id": poll}, RESPONSE: {"answers": answers}}
    return await user.send_event(room, RESPONSE, content)


async def command(user, room: str, bot_id: str, text: str) -> dict:
    return await user.reply_to(await user.send(room, text), bot_id, room, timeout=30)


async def notifications(homeserver: str, token: str) -> list[dict]:
    url = f"{homeserver}/_matrix/client/v3/notifications"
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200
        return (await resp.json())["notifications"]


def events_of(user, bot_id: str, room: str, type_: str) -> list[dict]:
    return user.from_sender(bot_id, room, type_)


async def test_polls_are_native_counted_like_element_and_close_once(make_bot, users, accounts, synapse):
    mod, anna, bernd, stranger = await users("mod"), await users("anna"), await users("bernd"), await users("stranger")
    bot_id = accounts["bot"]["user_id"]
    people = [anna.user_id, bernd.user_id, stranger.user_id]
    # The working group's room (plain, so the homeserver can evaluate mentions) is also the community
    # space; the lunch poll runs in an encrypted room. The bot may redact in the working group's room.
    group = await mod.create_room(invite=[bot_id, *people], name="workgroup", power={bot_id: 50})
    lunch = await mod.create_room(invite=[bot_id, *people], name="lunch", encrypted=True)
    allowed = [accounts[k]["user_id"] for k in ("mod", "anna", "bernd")]
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "polls": {}},
            "invites": {"allow_users": allowed, "space": group},
            "roles": {"workgroup": {"users": [anna.user_id, bernd.user_id]}},
        }
    ).start()
    for room in (group, lunch):
        for who in (bot_id, *people):
            await wait_membership(mod, room, who)

    # ---- two polls: lunch (everyone, encrypted room) and a working-group poll closing in a minute
    await anna.send(lunch, '!poll "Lunch?" "Pizza" "Sushi" "Salad"')
    (start,) = await anna.wait_for_events(bot_id, lunch, type_=START)
    assert start["_encrypted"]
    # Field by field as facts.md has it (Element's parser).
    assert start["content"] == {
        "org.matrix.msc1767.text": "Lunch?\n1. Pizza\n2. Sushi\n3. Salad",
        START: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "question": {"org.matrix.msc1767.text": "Lunch?", "body": "Lunch?", "msgtype": "m.text"},
            "answers": [
                {"id": "1", "org.matrix.msc1767.text": "Pizza"},
                {"id": "2", "org.matrix.msc1767.text": "Sushi"},
                {"id": "3", "org.matrix.msc1767.text": "Salad"},
            ],
        },
        "m.mentions": {},
    }
    await bernd.send(group, '!poll "Budget 2027?" "Ja" "Nee" workgroup in 1 minute')
    (budget,) = await bernd.wait_for_events(bot_id, group, type_=START)

    await vote(anna, lunch, start["event_id"], ["1"])
    await vote(bernd, lunch, start["event_id"], ["3"])
    await vote(stranger, lunch, start["event_id"], ["9"])  # an id the poll does not have: spoiled
    await vote(anna, lunch, start["event_id"], ["2"])  # anna changes her mind
    await vote(anna, group, budget["event_id"], ["1"])
    await vote(bernd, group, budget["event_id"], ["2"])
    outsider = await vote(stranger, group, budget["event_id"], ["2"])  # not in the working group
    await stranger.wait_until(
        lambda: any(e.get("redacts") == outsider for e in events_of(stranger, bot_id, group, "m.room.redaction")), 30
    )
    so_far = await command(bernd, lunch, bot_id, "!poll results")
    assert (
        "1. Pizza — 0 votes (0%)\n2. **Sushi — 1 vote (50%)**\n3. **Salad — 1 vote (50%)**" in so_far["content"]["body"]
    )

    # ---- the bot dies mid-poll; the database loses anna's and bernd's responses; the group poll falls due
    bot.kill()
    with sqlite3.connect(bot.workdir / "data" / "diabot.db") as db:
        lost = db.execute("DELETE FROM poll_responses WHERE voter IN (?, ?)", (anna.user_id, bernd.user_id)).rowcount
        # The downtime outlasts the group poll: its closing time (said "in 1 minute") is moved to now
        # instead of the test waiting a minute; every vote above came before it.
        (closes_at,) = db.execute("SELECT closes_at FROM polls WHERE question = ?", ("Budget 2027?",)).fetchone()
        due = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        assert due < closes_at
        db.execute("UPDATE polls SET closes_at = ? WHERE question = ?", (due, "Budget 2027?"))
    assert lost >= 5
    bot.start()

    # The close that fell due while the bot was down: once, right after the start; the outsider not counted.
    (_announcement, closed) = await bernd.wait_for_events(bot_id, group, count=2, timeout=60)
    assert "has closed" in closed["content"]["body"]
    assert "1. **Ja — 1 vote (50%)**\n2. **Nee — 1 vote (50%)**" in closed["content"]["body"]
    assert closed["content"]["msgtype"] == "m.text"
    assert closed["content"]["m.mentions"] == {"user_ids": sorted([anna.user_id, bernd.user_id])}
    (end,) = await bernd.wait_for_events(bot_id, group, type_=END)
    assert end["content"]["m.relates_to"] == {"rel_type": "m.reference", "event_id": budget["event_id"]}
    # It reaches anna's phone: the mention makes a notification (a notice would not).
    pinged = await notifications(synapse.url, accounts["anna"]["access_token"])
    assert closed["event_id"] in [n["event"]["event_id"] for n in pinged]

    # The lunch tally survived: what the database lost came back from /relations, decrypted.
    rebuilt = await command(bernd, lunch, bot_id, "!poll results 1")
    assert rebuilt["content"]["body"] == so_far["content"]["body"]

    # ---- anna closes the lunch poll; stranger's vote after the end does not count
    await anna.send(lunch, "!poll close")  # the result in the room is the answer
    await anna.wait_for_events(bot_id, lunch, type_=END)
    await vote(stranger, lunch, start["event_id"], ["1"])
    final = await command(bernd, lunch, bot_id, "!poll results 1")
    body = final["content"]["body"]
    assert "Poll 1 has closed" in body and "1. Pizza — 0 votes (0%)" in body
    assert "2 people voted. 1 vote named no answer of this poll and does not count." in body

    # ---- a restart: nothing closes twice
    assert bot.stop() == 0
    bot.start()
    await command(anna, group, bot_id, "!ping")
    await asyncio.sleep(2)
    assert len(events_of(anna, bot_id, group, END)) == 1
    assert len(events_of(anna, bot_id, lunch, END)) == 1
    assert len([e for e in anna.from_sender(bot_id, group) if "has closed" in e["content"].get("body", "")]) == 1
