"""Events against a real Synapse, in one scenario on one bot start (and one
restart): a Dutch and a German natural-language date land at the right
instant on both sides of the switch to winter time; answers by reaction and
by command; the waitlist moves up (the promoted member gets an m.text in her
DM); a reminder goes out once while the bot runs and one that fell due while
it was down goes out once after the restart, both as m.text that show up in
the member's GET /notifications; the calendar feed, fetched over HTTP, parses
with icalendar (TZID, instants, SEQUENCE, STATUS:CANCELLED) and a wrong token
gets 404."""

import asyncio
import re
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import aiohttp
import icalendar
import pytest
import yaml

from .helpers import wait_membership

pytestmark = pytest.mark.integration
# The event starts two minutes after it is created: the reminders fall due 20 and 40 seconds after.
REMINDERS = ["100s", "80s"]


async def notifications(homeserver: str, token: str) -> list[dict]:
    url = f"{homeserver}/_matrix/client/v3/notifications"
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200
        return (await resp.json())["notifications"]


def bodies(user, bot_id: str, room: str, text: str) -> list[dict]:
    return [e for e in user.from_sender(bot_id, room) if text in e["content"].get("body", "")]


async def wait_for(user, bot_id: str, room: str, text: str, count: int = 1, timeout: float = 30) -> list[dict]:
    try:
        await user.wait_until(lambda: len(bodies(user, bot_id, room, text)) >= count, timeout)
    except TimeoutError:
        got = [e["content"].get("body", "")[:60] for e in user.from_sender(bot_id, room)]
        raise AssertionError(f"no {text!r} from the bot in {room} (got {got})") from None
    return bodies(user, bot_id, room, text)


async def command(user, room: str, bot_id: str, text: str) -> str:
    return (await user.reply_to(await user.send(room, text), bot_id, room, timeout=30))["content"]["body"]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


async def test_events_answers_waitlist_reminders_and_feed(make_bot, users, accounts, synapse, tmp_path):
    mod, anna, bernd = await users("mod"), await users("anna"), await users("bernd")
    bot_id = accounts["bot"]["user_id"]
    tag = uuid.uuid4().hex[:6]
    themes = tmp_path / "themes.yaml"
    themes.write_text(
        yaml.safe_dump(
            {"themes": [{"slug": "energy", "nl": {"name": f"Energie {tag}"}, "de": {"name": f"Energiewende {tag}"}}]}
        )
    )
    bot = make_bot(
        extra={
            "plugins": {
                "core": {},
                "community": {"space_name": f"Events {tag}"},
                "events": {"reminders": REMINDERS, "default_theme": "energy"},
            },
            "themes_file": str(themes),
            "bot": {"default_language": "nl", "admins": [accounts["mod"]["user_id"]]},
        }
    ).start()

    def room_named(name: str) -> str | None:
        return next((r.room_id for r in mod.client.rooms.values() if r.name == name), None)

    await mod.wait_until(lambda: room_named(f"Events {tag}") and room_named(f"Energie {tag} / Energiewende {tag}"), 60)
    space, room = room_named(f"Events {tag}"), room_named(f"Energie {tag} / Energiewende {tag}")
    for member in (anna, bernd):
        await mod.client.room_invite(space, member.user_id)  # test users accept invites
        await wait_membership(mod, space, member.user_id)
        await member.client.join(room)  # a themed room is open to the space's members
        await wait_membership(mod, room, member.user_id)
    # Bernd's private chat with the bot, and his secret calendar address in it.
    await bernd.send(room, "!agenda")
    await bernd.wait_until(lambda: any("/events/feed/" in e["content"].get("body", "") for e in bernd.events), 60)
    feed_dm = next(e for e in bernd.events if "/events/feed/" in e["content"].get("body", ""))
    dm = feed_dm["room_id"]
    feed_url = re.search(r"http://\S+?/events/feed/\w+\.ics", feed_dm["content"]["body"]).group(0)
    assert f":{bot.web_port}/events/feed/" in feed_url

    # ---- an event two minutes ahead, for one person
    created_at = time.time()
    reply = await command(anna, room, bot_id, f'!evenement "Borrel {tag}" over 2 minuten @ Raadhuisplein 1 max 1')
    assert f"Borrel {tag}" in reply and "#1" in reply
    (announcement,) = [e for e in await wait_for(anna, bot_id, room, "· #1") if "m.relates_to" not in e["content"]]
    assert announcement["content"]["msgtype"] == "m.notice"
    await anna.wait_for_events(bot_id, room, count=3, type_="m.reaction")  # ✅ ❓ ❌ to tap on

    # Anna answers by reaction; the announcement's counts are edited in place.
    await anna.send_event(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": announcement["event_id"], "key": "✅"}},
    )
    await anna.wait_until(
        lambda: any(
            e["content"].get("m.relates_to", {}).get("event_id") == announcement["event_id"]
            and "✅ 1 · ❓ 0 · ❌ 0" in e["content"].get("m.new_content", {}).get("body", "")
            for e in anna.from_sender(bot_id, room)
        ),
        30,
    )
    # Bernd by command: full, he waits; Anna drops out by command: he moves up and is told by an m.text.
    assert "wachtlijst" in await command(bernd, room, bot_id, "!rsvp 1 ja")
    assert "Genoteerd" in await command(anna, room, bot_id, "!rsvp 1 nee")
    (promoted,) = await wait_for(bernd, bot_id, dm, "plek vrijgekomen")
    assert promoted["content"]["msgtype"] == "m.text"
    assert promoted["content"]["m.mentions"] == {"user_ids": [bernd.user_id]}

    # ---- the first reminder, while the bot runs: in the thread and by DM, pinging Bernd only
    (first,) = await wait_for(bernd, bot_id, room, "Herinnering", timeout=60)
    assert first["content"]["msgtype"] == "m.text" and first["content"]["m.mentions"] == {"user_ids": [bernd.user_id]}
    assert first["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert first["content"]["m.relates_to"]["event_id"] == announcement["event_id"]
    await wait_for(bernd, bot_id, dm, "Herinnering")

    # ---- down while the second one falls due; after the start it goes out once, the first not again
    bot.stop()
    assert time.time() < created_at + 40, "the bot must be down when the second reminder falls due"
    await asyncio.sleep(max(0.0, created_at + 44 - time.time()))
    bot.start()
    await wait_for(bernd, bot_id, room, "Herinnering", count=2, timeout=60)
    await wait_for(bernd, bot_id, dm, "Herinnering", count=2, timeout=60)
    await asyncio.sleep(3)
    reminders = bodies(bernd, bot_id, room, "Herinnering")
    assert len(reminders) == 2 and len(bodies(bernd, bot_id, dm, "Herinnering")) == 2
    # They reach his phone: m.text with him in m.mentions is a notification (a notice would not be).
    pinged = {n["event"]["event_id"] for n in await notifications(synapse.url, accounts["bernd"]["access_token"])}
    assert {r["event_id"] for r in reminders} <= pinged

    # ---- a Dutch date before and a German one after the switch to winter time (31 October 2027)
    dutch = await command(anna, room, bot_id, f'!evenement "Netwerkborrel {tag}" zaterdag 30 oktober 2027 16:00')
    assert "zaterdag 30 oktober 2027, 16:00–18:00" in dutch
    german = await command(bernd, room, bot_id, f'!veranstaltung "Stammtisch {tag}" 3. November 2027 14 Uhr #energy')
    assert "Mittwoch, 3. November 2027, 14:00–16:00" in german
    holiday = await command(bernd, room, bot_id, f'!veranstaltung "Feiertag {tag}" 3. Oktober 2027 11 Uhr')
    assert "Tag der Deutschen Einheit" in holiday  # a public holiday in Lower Saxony
    await command(anna, room, bot_id, "!evenement wijzig 2 plaats Raadhuisplein 1, Emmen")
    await command(bernd, room, bot_id, "!veranstaltung absagen 4")

    status, body = await asyncio.to_thread(fetch, feed_url)
    assert status == 200
    calendar = icalendar.Calendar.from_ical(body)
    events = {str(e["SUMMARY"]): e for e in calendar.events}
    assert {tz["TZID"] for tz in calendar.timezones} == {"Europe/Amsterdam"}
    borrel, stammtisch = events[f"Netwerkborrel {tag}"], events[f"Stammtisch {tag}"]
    assert borrel["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert borrel.start.astimezone(UTC) == datetime(2027, 10, 30, 14, 0, tzinfo=UTC)  # summer time: UTC+2
    assert stammtisch.start.astimezone(UTC) == datetime(2027, 11, 3, 13, 0, tzinfo=UTC)  # winter time: UTC+1
    assert (borrel["SEQUENCE"], str(borrel["LOCATION"])) == (1, "Raadhuisplein 1, Emmen")
    assert str(events[f"Feiertag {tag}"]["STATUS"]) == "CANCELLED"
    assert bernd.user_id.encode() not in body and anna.user_id.encode() not in body  # a feed names nobody
    wrong = feed_url.rsplit("/", 1)[0] + "/" + "0" * 48 + ".ics"
    assert (await asyncio.to_thread(fetch, wrong))[0] == 404
