"""Onboarding, profiles, moderator tools and GDPR self-service against a real
Synapse (and, for erasure, both SQLite and a real PostgreSQL)."""

import asyncio
import json
import re
import sqlite3
import uuid

import pytest
from nio.crypto import decrypt_attachment

from .helpers import wait_membership

pytestmark = pytest.mark.integration
PLUGINS = {"core": {}, "community": {}, "members": {}}


OLD_ROOMS: set[str] = set()  # rooms of bots from earlier tests (same bot account, same names)


def community_bot(make_bot, accounts, mod, **extra):
    OLD_ROOMS.update(mod.client.rooms)
    return make_bot(
        extra={"plugins": PLUGINS, "bot": {"default_language": "en", "admins": [accounts["mod"]["user_id"]]}, **extra}
    ).start()


async def space_of(mod, timeout=60):
    await mod.wait_until(lambda: room_named(mod, "Wirtschaftsverband Emsland") is not None, timeout)
    return room_named(mod, "Wirtschaftsverband Emsland")


def room_named(user, text):
    """A room of this test's bot with `text` in its name."""
    rooms = [r.room_id for r in user.client.rooms.values() if r.name and text in r.name and r.room_id not in OLD_ROOMS]
    return rooms[0] if rooms else None


async def answer(user, room, bot_id, text, timeout=30):
    before = len(user.from_sender(bot_id, room))
    await user.send(room, text)
    try:
        await user.wait_until(lambda: len(user.from_sender(bot_id, room)) > before, timeout)
    except TimeoutError:
        raise AssertionError(f"no answer to {text!r}") from None
    # The newest by server time: a message whose key came late is recorded late.
    return max(user.from_sender(bot_id, room), key=lambda e: e.get("origin_server_ts", 0))["content"]["body"]


async def join_space(mod, user) -> str:
    """Make `user` a member: only members of the community space may use member features."""
    space = await space_of(mod)
    await mod.client.room_invite(space, user.user_id)  # test users accept invites
    await user.wait_until(lambda: space in user.client.rooms, 30)
    return space


def greeting_event(user, bot_id, since=0) -> dict | None:
    for e in user.events[since:]:
        if e.get("sender") == bot_id and "1. Nederlands" in e.get("content", {}).get("body", ""):
            return e
    return None


async def dm_with_greeting(user, bot_id, timeout=60, since=0):
    await user.wait_until(lambda: greeting_event(user, bot_id, since) is not None, timeout)
    return greeting_event(user, bot_id, since)["room_id"]


async def test_joining_the_space_starts_a_german_onboarding(make_bot, users, accounts):
    mod, bernd = await users("mod"), await users("bernd")
    since = len(bernd.events)
    bot = community_bot(make_bot, accounts, mod)
    space = await space_of(mod)
    await mod.client.room_invite(space, bernd.user_id)  # bernd accepts (test users accept invites)

    dm = await dm_with_greeting(bernd, bot.user_id, since=since)
    assert bernd.client.rooms[dm].encrypted
    greeting = greeting_event(bernd, bot.user_id, since)["content"]
    # An m.text, so that it reaches his phone; in all three languages (nobody has chosen yet).
    assert greeting["msgtype"] == "m.text"
    assert all(word in greeting["body"] for word in ("Welkom", "Willkommen", "Welcome"))
    # He greets instead of choosing: German from here on, addressed with "Sie".
    body = await answer(bernd, dm, bot.user_id, "Guten Morgen!")
    assert "Darf ich ein Kurzprofil Ihres Unternehmens" in body and "!vergiss" in body and len(body) <= 350
    assert "Wie heißt Ihr Unternehmen" in await answer(bernd, dm, bot.user_id, "Ja, klar!")
    assert "Wo sitzt Ihr Unternehmen?" in await answer(bernd, dm, bot.user_id, "Müller Logistik GmbH")
    assert "Seite der Grenze" in await answer(bernd, dm, bot.user_id, "Meppen")

    bot.stop()  # a restart in the middle of the dialogue
    bot.start()
    # Gibberish: asked again in one short line, not the whole question.
    assert (
        await answer(bernd, dm, bot.user_id, "qwertzuiop")
        == "Entschuldigung, welche Nummer?\n1. Niederlande\n2. Deutschland"
    )
    assert "Branche" in await answer(bernd, dm, bot.user_id, "Deutschlnd")  # typo tolerated
    body = await answer(bernd, dm, bot.user_id, "Logistik")
    assert "Themen" in body and "1. Energiewende" in body
    assert "Arbeitsgruppe" not in body and "Willkommen" not in body  # the working group is never offered
    got = await answer(bernd, dm, bot.user_id, "1, 4")
    assert "anbieten" in got, [e["content"]["body"][:50] for e in bernd.from_sender(bot.user_id, dm)]
    assert "Was sucht Ihr Unternehmen?" in await answer(bernd, dm, bot.user_id, "Fachwissen, 4")
    assert "Mitgliederliste" in await answer(bernd, dm, bot.user_id, "3")
    assert "Willkommensraum" in await answer(bernd, dm, bot.user_id, "jawohl")
    body = await answer(bernd, dm, bot.user_id, "ja gerne")
    assert "Profil ist gespeichert" in body and "Energiewende" in body and "Handel, Einkauf und Logistik" in body
    assert "Arbeitsgruppe" not in body

    energy = room_named(mod, "Energietransitie / Energiewende")
    await wait_membership(bernd, energy, bernd.user_id)  # invited to the chosen rooms, and joined
    profile = await answer(bernd, dm, bot.user_id, "!profil")
    assert "Müller Logistik GmbH" in profile and "Ort: Meppen" in profile and "Grenze: Deutschland" in profile
    assert "Fachwissen" in profile
    listing = await answer(bernd, dm, bot.user_id, "!mitglieder energie")
    assert "Müller Logistik GmbH" in listing

    welcome = room_named(mod, "Welkom / Willkommen")
    await mod.wait_until(
        lambda: any("Neues Mitglied" in e["content"].get("body", "") for e in mod.from_sender(bot.user_id, welcome)), 30
    )
    intro = next(e for e in mod.from_sender(bot.user_id, welcome) if "Neues Mitglied" in e["content"]["body"])
    assert "Nieuw lid" in intro["content"]["body"] and intro["content"]["m.mentions"] == {}


async def test_decline_then_skip_everything(make_bot, users, accounts):
    anna, mod = await users("anna"), await users("mod")
    bot = community_bot(make_bot, accounts, mod)
    await join_space(mod, anna)
    dm = (
        await anna.client.room_create(
            is_direct=True,
            invite=[bot.user_id],
            initial_state=[
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ],
        )
    ).room_id
    await wait_membership(anna, dm, bot.user_id)
    since = len(anna.events)
    assert "1. Nederlands" in await answer(anna, dm, bot.user_id, "!onboarding")
    assert greeting_event(anna, bot.user_id, since)["content"]["msgtype"] == "m.text"
    # No choice from the list, but a Dutch sentence: the language is taken from it.
    assert "Mag ik een kort profiel" in await answer(anna, dm, bot.user_id, "Goedemiddag, ik heb een bakkerij in Emmen")
    assert "bewaar geen profiel" in await answer(anna, dm, bot.user_id, "nee dank je")
    assert "nog geen profiel" in await answer(anna, dm, bot.user_id, "!profiel")
    data = await fetch_mydata(anna, dm, bot.user_id)
    assert "profile" not in data.get("members", {})

    await answer(anna, dm, bot.user_id, "!kennismaken")
    # A Dutch greeting: the whole dialogue in Dutch.
    assert "Mag ik een kort profiel" in await answer(anna, dm, bot.user_id, "Goedemorgen")
    assert "Hoe heet je bedrijf" in await answer(anna, dm, bot.user_id, "ja hoor")
    for _ in range(7):  # company, town, side, sector, themes, offers, seeks
        body = await answer(anna, dm, bot.user_id, "overslaan")
        assert not body.startswith("Sorry")  # no re-ask
        assert "Werkgroep" not in body
    await answer(anna, dm, bot.user_id, "nee")  # not listed
    body = await answer(anna, dm, bot.user_id, "nee")  # no introduction
    assert "profiel is opgeslagen" in body, [
        (e["origin_server_ts"], e["content"]["body"][:40]) for e in anna.from_sender(bot.user_id, dm)
    ]
    profile = await answer(anna, dm, bot.user_id, "!profiel")
    assert "Bedrijf: —" in profile and "Zichtbaar voor andere leden: nee" in profile
    changed = await answer(anna, dm, bot.user_id, "!profiel zet bedrijf Bakkerij De Grens")
    assert "Opgeslagen" in changed and "Bedrijf: Bakkerij De Grens" in changed
    changed = await answer(anna, dm, bot.user_id, "!profiel zet kant duitsland")
    assert "Kant van de grens: Duitsland" in changed
    bad = await answer(anna, dm, bot.user_id, "!profiel zet kant mars")
    assert "kon ik niet gebruiken" in bad
    assert "Gestopt" not in await answer(anna, dm, bot.user_id, "!stop")


async def fetch_mydata(user, dm, bot_id) -> dict:
    before = len(user.from_sender(bot_id, dm))
    await user.send(dm, "!mydata")

    def file_event():
        for e in user.from_sender(bot_id, dm)[before:]:
            if e["content"].get("msgtype") == "m.file":
                return e
        return None

    # The file and the short text that goes with it.
    await user.wait_until(lambda: file_event() is not None and len(user.from_sender(bot_id, dm)) >= before + 2, 30)
    content = file_event()["content"]
    url = content["file"]["url"] if "file" in content else content["url"]
    server, media = url[len("mxc://") :].split("/", 1)
    resp = await user.client.download(server_name=server, media_id=media)
    data = resp.body
    if "file" in content:
        f = content["file"]
        data = decrypt_attachment(data, f["key"]["k"], f["hashes"]["sha256"], f["iv"])
    return json.loads(data)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_mydata_and_forget_leave_no_trace(make_bot, users, accounts, request, backend):
    extra = {}
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        db_name = "forget_" + uuid.uuid4().hex[:8]
        extra["database"] = {"url": pg.create_database(db_name)}
    mod, anna = await users("mod"), await users("anna")
    bot = community_bot(make_bot, accounts, mod, **extra)
    await join_space(mod, anna)
    dm = (
        await anna.client.room_create(
            is_direct=True,
            invite=[bot.user_id],
            initial_state=[
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ],
        )
    ).room_id
    await wait_membership(anna, dm, bot.user_id)
    await answer(anna, dm, bot.user_id, "!onboarding")
    for text in ("english", "yes", "Anna Design BV", "Emmen", "1", "design", "3", "1", "2", "yes"):
        await answer(anna, dm, bot.user_id, text)
    assert "profile is saved" in await answer(anna, dm, bot.user_id, "yes")
    await answer(anna, dm, bot.user_id, "!lang nl")

    data = await fetch_mydata(anna, dm, bot.user_id)
    assert data["user_id"] == anna.user_id
    assert data["members"]["profile"]["company"] == "Anna Design BV"
    assert data["settings"] == {"language": "nl"}
    mxids = set(re.findall(r"@[\w.=-]+:[\w.-]+", json.dumps(data)))
    assert mxids == {anna.user_id}  # exactly that user's data

    welcome = room_named(mod, "Welkom / Willkommen")
    await mod.wait_until(
        lambda: any("Anna Design BV" in e["content"].get("body", "") for e in mod.from_sender(bot.user_id, welcome)), 30
    )
    intro_id = next(e for e in mod.from_sender(bot.user_id, welcome) if "Anna Design BV" in e["content"]["body"])[
        "event_id"
    ]

    assert "Anna Design BV" in await answer(anna, dm, bot.user_id, "!profiel")  # echoes the profile
    profile_reply = max(anna.from_sender(bot.user_id, dm), key=lambda e: e["origin_server_ts"])["event_id"]
    assert "bevestig" in await answer(anna, dm, bot.user_id, "!vergeet")
    assert "gewist" in await answer(anna, dm, bot.user_id, "!vergeet bevestig")
    await mod.wait_until(
        lambda: any(
            e.get("type") == "m.room.redaction" and (e.get("redacts") or e["content"].get("redacts")) == intro_id
            for e in mod.events
        ),
        30,
    )

    await anna.wait_until(
        lambda: any(
            e.get("type") == "m.room.redaction" and (e.get("redacts") or e["content"].get("redacts")) == profile_reply
            for e in anna.events
        ),
        30,
    )
    await wait_membership(anna, dm, bot.user_id, "leave")  # the bot left her direct chat
    bot.stop()  # nothing in flight while we read the database
    if backend == "sqlite":
        con = sqlite3.connect(bot.workdir / "data" / "diabot.db")
        dump = "\n".join(con.iterdump())
        con.close()
    else:
        dump = pg.dump(db_name)
    assert anna.user_id not in dump
    assert "Anna Design" not in dump
    assert "erasure_log" in dump


async def test_announce_reaches_every_themed_room_once_and_stats(make_bot, users, accounts):
    mod = await users("mod")
    bot = community_bot(make_bot, accounts, mod)
    space = await space_of(mod)
    names = [
        "Energietransitie",
        "Vakmensen",
        "Digitalisering",
        "Handel",
        "Kennisuitwisseling",
        "Bijeenkomsten",
        "Werkgroep",
        "Welkom",
    ]
    await mod.wait_until(lambda: all(room_named(mod, n) for n in names), 60)
    rooms = [room_named(mod, n) for n in names]
    dm = (await mod.client.room_create(is_direct=True, invite=[bot.user_id])).room_id
    await wait_membership(mod, dm, bot.user_id)
    body = await answer(mod, dm, bot.user_id, "!announce The cross-border fair is on Friday in Meppen.")
    assert "8 rooms" in body
    for room in rooms:
        await mod.wait_until(
            lambda room=room: any(
                e["content"].get("body", "").startswith("📣") for e in mod.from_sender(bot.user_id, room)
            ),
            30,
        )
    await answer(mod, dm, bot.user_id, "!ping")
    for room in rooms:
        announcements = [e for e in mod.from_sender(bot.user_id, room) if e["content"].get("body", "").startswith("📣")]
        assert len(announcements) == 1 and "fair is on Friday" in announcements[0]["content"]["body"]
    assert space not in rooms
    stats = await answer(mod, dm, bot.user_id, "!stats")
    assert "Members per themed room" in stats and "started" in stats


async def test_privacy_change_and_inactive_profiles(make_bot, users, accounts):
    """Housekeeping: a new privacy text is asked again (declining deletes the
    profile); an inactive profile gets a warning, then is deleted."""
    anna, mod = await users("anna"), await users("mod")
    bot = community_bot(make_bot, accounts, mod)
    await join_space(mod, anna)
    dm = (await anna.client.room_create(is_direct=True, invite=[bot.user_id])).room_id
    await wait_membership(anna, dm, bot.user_id)
    await answer(anna, dm, bot.user_id, "!onboarding")
    for text in ("english", "yes", "Anna Design BV", "skip", "skip", "skip", "skip", "skip", "skip", "no"):
        await answer(anna, dm, bot.user_id, text)
    assert "profile is saved" in await answer(anna, dm, bot.user_id, "no")

    # The privacy text changes (version 2): on restart the member is asked again.
    bot.stop()
    bot.config["plugins"]["members"] = {"privacy_version": 2}
    bot.config_path.write_text(__import__("yaml").safe_dump(bot.config))
    before = len(anna.from_sender(bot.user_id, dm))
    bot.start()
    await anna.wait_until(lambda: len(anna.from_sender(bot.user_id, dm)) > before, 30)
    assert "privacy text has changed" in anna.from_sender(bot.user_id, dm)[-1]["content"]["body"]
    assert "updated" in await answer(anna, dm, bot.user_id, "yes")
    assert "Anna Design BV" in await answer(anna, dm, bot.user_id, "!profile")

    # Long inactive: a warning first, then (after the warning period) deletion.
    bot.stop()
    db = bot.workdir / "data" / "diabot.db"
    con = sqlite3.connect(db)
    con.execute("UPDATE profiles SET last_active_at = '2020-01-01 00:00:00.000000'")
    con.commit()
    before = len(anna.from_sender(bot.user_id, dm))
    bot.start()
    await anna.wait_until(lambda: len(anna.from_sender(bot.user_id, dm)) > before, 30)
    assert "has not been used for 18 months" in anna.from_sender(bot.user_id, dm)[-1]["content"]["body"]
    bot.stop()
    con.execute(
        "UPDATE profiles SET last_active_at = '2020-01-01 00:00:00.000000', warned_at = '2020-02-01 00:00:00.000000'"
    )
    con.commit()
    bot.start()
    for _ in range(60):
        if con.execute("SELECT count(*) FROM profiles").fetchone()[0] == 0:
            break
        await __import__("asyncio").sleep(0.5)
    assert con.execute("SELECT count(*) FROM profiles").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM erasure_log").fetchone()[0] == 1
    con.close()


async def test_open_dialogues_get_their_question_again_once_after_the_identity_upgrade(make_bot, users, accounts):
    """Members on current Element could not read the unsigned bot: after the
    upgrade each open dialogue gets its current question once more, as m.text
    (it must reach the phone). The database of the version before has no
    'resent' marker; a second start sends nothing again."""
    mod, bernd = await users("mod"), await users("bernd")
    since = len(bernd.events)  # greetings of earlier tests' bots
    bot = community_bot(make_bot, accounts, mod)
    await join_space(mod, bernd)
    dm = await dm_with_greeting(bernd, bot.user_id, since=since)
    assert "Darf ich ein Kurzprofil" in await answer(bernd, dm, bot.user_id, "2")
    bot.stop()
    con = sqlite3.connect(bot.workdir / "data" / "diabot.db")
    with con:
        deleted = con.execute("DELETE FROM kv WHERE key = 'members.questions_resent_after_cross_signing'").rowcount
    con.close()
    assert deleted == 1  # the first start recorded it (nothing was open then)
    before = len(bernd.from_sender(bot.user_id, dm))
    bot.start()
    await bernd.wait_until(lambda: len(bernd.from_sender(bot.user_id, dm)) > before, 30)
    again = bernd.from_sender(bot.user_id, dm)[before:]
    assert len(again) == 1 and "Darf ich ein Kurzprofil" in again[0]["content"]["body"]
    assert again[0]["content"]["msgtype"] == "m.text"
    bot.stop()
    bot.start()
    await asyncio.sleep(5)
    assert len(bernd.from_sender(bot.user_id, dm)) == before + 1


async def test_a_stop_right_after_opening_the_direct_chat_never_opens_a_second(make_bot, users, accounts):
    """SIGKILL-like stop after the DM was created, before it was recorded: the
    replay finds the room by its marker and reuses it."""
    mod, bernd = await users("mod"), await users("bernd")
    earlier_rooms, earlier_events = set(bernd.client.rooms), len(bernd.events)  # chats of earlier tests
    mod_since = len(mod.events)
    bot = community_bot(make_bot, accounts, mod)
    space = await space_of(mod)
    await dm_with_greeting(mod, bot.user_id, since=mod_since)  # the moderator's own DM is settled first
    bot.arm_failpoint(f"after-create-room:direct:{bernd.user_id}")
    await mod.client.room_invite(space, bernd.user_id)
    for _ in range(100):
        if bot.proc.poll() is not None:
            break
        await asyncio.sleep(0.2)
    assert bot.proc.returncode == 137, "the failpoint did not fire"
    bot.start()
    dm = await dm_with_greeting(bernd, bot.user_id, since=earlier_events)
    await asyncio.sleep(3)
    with_bot = [
        r
        for r in bernd.client.rooms.values()
        if bot.user_id in r.users and r.room_id not in earlier_rooms and r.joined_count <= 2 and r.room_id != space
    ]
    assert [r.room_id for r in with_bot] == [dm]
    greetings = [
        e
        for e in bernd.events[earlier_events:]
        if e.get("sender") == bot.user_id and "1. Nederlands" in e["content"].get("body", "")
    ]
    assert len(greetings) == 1
