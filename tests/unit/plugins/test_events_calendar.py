"""Calendars: `!event ics` and the members' feeds, read back with the
icalendar parser: stable UID, TZID and the right instant (also across the
switch to winter time), SEQUENCE counted up by edits, STATUS:CANCELLED,
LOCATION/URL, no names. Feeds are served by the plugin's web routes:
an unknown, replaced or ex-member's token gets 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import icalendar
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from diabot.routes import add_plugin_routes
from diabot.testing import TestBot

ANNA, BERND = "@anna:x", "@bernd:x"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "events"])
    bot.clock.now = START
    for user in (ANNA, BERND):
        bot.add_member(user, bot.theme_room("energy"))
    yield bot
    await bot.stop()


@pytest.fixture
async def http(bot):
    app = web.Application()
    add_plugin_routes(app, [bot.plugin("events")])
    async with TestClient(TestServer(app)) as client:
        yield client


def ics_file(replies) -> icalendar.Calendar:
    (sent,) = replies.of_type("diabot.file")
    assert sent.content["mimetype"] == "text/calendar" and sent.content["filename"] == "event-1.ics"
    return icalendar.Calendar.from_ical(sent.content["text"])


async def test_the_ics_file_round_trips_with_tzid_instant_sequence_and_status(bot):
    room = bot.theme_room("energy")
    # The day before the switch to winter time: UTC+2.
    line = '"Borrel" zaterdag 30 oktober 2027 16:00 @ Raadhuisplein 1 + https://meet.example/x #energy'
    await bot.say(ANNA, f"!evenement {line}", room=room)
    await bot.react(BERND, (await bot.run_jobs()).of_type("m.reaction")[0].relates_to["event_id"], "✅", room)
    calendar = ics_file(await bot.say(ANNA, "!event ics 1", room=room))
    (event,) = calendar.events
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event.start.astimezone(UTC) == datetime(2027, 10, 30, 14, 0, tzinfo=UTC)
    assert event.end.astimezone(UTC) == datetime(2027, 10, 30, 16, 0, tzinfo=UTC)
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Amsterdam"]
    assert (str(event["LOCATION"]), str(event["URL"]), event["SEQUENCE"], str(event["STATUS"])) == (
        "Raadhuisplein 1",
        "https://meet.example/x",
        0,
        "CONFIRMED",
    )
    assert "DTSTAMP" in event and "ATTENDEE" not in event and "ORGANIZER" not in event
    uid = str(event["UID"])

    # Moved past the switch: UTC+1 now, and calendars see a newer version of the same event.
    await bot.say(ANNA, "!evenement wijzig 1 wanneer 1 november 2027 16:00", room=room)
    (moved,) = ics_file(await bot.say(ANNA, "!event ics 1", room=room)).events
    assert moved.start.astimezone(UTC) == datetime(2027, 11, 1, 15, 0, tzinfo=UTC)
    assert (str(moved["UID"]), moved["SEQUENCE"]) == (uid, 1)
    await bot.say(ANNA, "!evenement annuleer 1", room=room)
    (cancelled,) = ics_file(await bot.say(ANNA, "!event ics 1", room=room)).events
    assert (str(cancelled["UID"]), cancelled["SEQUENCE"], str(cancelled["STATUS"])) == (uid, 2, "CANCELLED")


def feed_url(replies, room: str) -> str:
    (dm,) = replies.in_room(room)
    return re.search(r"http://\S+?/events/feed/\w+\.ics", dm.body).group(0)


async def test_a_member_gets_a_secret_feed_by_dm_and_a_wrong_token_gets_404(bot, http):
    room = bot.theme_room("energy")
    await bot.say(ANNA, '!evenement "Borrel" dinsdag 16:00 #energy', room=room)
    await bot.say(ANNA, '!veranstaltung "Stammtisch" 3. Dezember 14 Uhr #digital', room=room)
    await bot.run_jobs()
    await bot.say(BERND, "!rsvp 1 ja", room=room)
    asked = await bot.say(BERND, "!agenda", room=room)
    assert "privéchat" in asked.in_room(room).text  # the address itself never goes to the room
    url = feed_url(asked, bot.dm(BERND))
    path = url.split("8080", 1)[1]
    assert url.startswith("http://127.0.0.1:8080/events/feed/")

    resp = await http.get(path)
    assert resp.status == 200 and resp.content_type == "text/calendar"
    body = await resp.text()
    calendar = icalendar.Calendar.from_ical(body)
    assert sorted(str(e["SUMMARY"]) for e in calendar.events) == ["Borrel", "Stammtisch"]
    assert BERND not in body and ANNA not in body and "bernd" not in body.lower()  # names nobody
    assert {e.start.astimezone(UTC) for e in calendar.events} == {
        datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
    }
    etag = resp.headers["ETag"]
    assert (await http.get(path, headers={"If-None-Match": etag})).status == 304
    themed = await http.get(path.replace(".ics", "/digital.ics"))
    assert [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(await themed.text()).events] == ["Stammtisch"]
    assert (await http.get(path.replace(".ics", "/nosuchtheme.ics"))).status == 404

    assert (await http.get("/events/feed/" + "0" * 48 + ".ics")).status == 404
    renewed = await bot.say(BERND, "!agenda reset", room=bot.dm(BERND))
    new_path = feed_url(renewed, bot.dm(BERND)).split("8080", 1)[1]
    assert new_path != path
    assert (await http.get(path)).status == 404  # the old address is switched off
    assert (await http.get(new_path)).status == 200
    bot.rooms.remove_member(bot.space, BERND)  # left the community: the feed goes too
    assert (await http.get(new_path)).status == 404


async def test_the_feed_is_rebuilt_after_a_change_only(bot, http):
    room = bot.theme_room("energy")
    await bot.say(ANNA, '!evenement "Borrel" dinsdag 16:00 #energy', room=room)
    path = feed_url(await bot.say(ANNA, "!agenda", room=room), bot.dm(ANNA)).split("8080", 1)[1]
    first = await (await http.get(path)).read()
    feeds = bot.plugin("events").feeds
    cached = next(iter(feeds._cache.values()))[1]
    assert (await http.get(path)).headers["ETag"] == cached.etag
    await bot.say(ANNA, "!evenement wijzig 1 titel Grote borrel", room=room)
    changed = await (await http.get(path)).read()
    assert changed != first and b"SUMMARY:Grote borrel" in changed and b"SEQUENCE:1" in changed
