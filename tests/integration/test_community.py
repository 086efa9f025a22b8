"""The community space and its themed rooms against a real Synapse."""

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
import yaml

from .helpers import room_with_bot

pytestmark = pytest.mark.integration
THEMES = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "themes.yaml").read_text())["themes"]
NAMES = {t["slug"]: f"{t['nl']['name']} / {t['de']['name']}" for t in THEMES}


def rooms_joined_named(user, text):
    return [r for r in user.client.rooms.values() if r.name and text in r.name]


async def client_api(homeserver: str, token: str, method: str, path: str, body: dict | None = None):
    """A raw client-server API call as a member whose app does nothing else (no syncing, no auto-join)."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{homeserver}/_matrix/client{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        ) as resp,
    ):
        return resp.status, await resp.json()


async def state_of(user, room_id: str, event_type: str, state_key: str = "") -> dict | None:
    resp = await user.client.room_get_state_event(room_id, event_type, state_key)
    return getattr(resp, "content", None)


async def test_space_and_themed_rooms(make_bot, users, accounts):
    mod, anna = await users("mod"), await users("anna")
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "community": {}},
            "bot": {"default_language": "en", "admins": [accounts["mod"]["user_id"]]},
        }
    ).start()
    # The moderator is invited to the space and all eight themed rooms (and joins them).
    names = [f"{t['nl']['name']} / {t['de']['name']}" for t in THEMES]
    await mod.wait_until(lambda: all(rooms_joined_named(mod, n) for n in names), 60)
    energy = rooms_joined_named(mod, "Energietransitie / Energiewende")
    assert len(energy) == 1
    assert "🇳🇱" in energy[0].topic and "🇩🇪" in energy[0].topic
    assert energy[0].power_levels.get_user_level(mod.user_id) == 50
    (space,) = rooms_joined_named(mod, "Wirtschaftsverband Emsland")
    state = await mod.client.room_get_state(space.room_id)
    children = {e["state_key"] for e in state.events if e["type"] == "m.space.child" and e["content"].get("via")}
    assert children == {r.room_id for n in names for r in rooms_joined_named(mod, n)}

    # Rooms made by older versions (invite-only, suggested by `suggest`) are brought up to date at start.
    await mod.client.room_put_state(energy[0].room_id, "m.room.join_rules", {"join_rule": "invite"})
    server = bot.user_id.split(":", 1)[1]
    old_child = {"via": [server], "suggested": True}
    await mod.client.room_put_state(space.room_id, "m.space.child", old_child, state_key=energy[0].room_id)
    # A restart creates nothing new.
    bot.stop()
    bot.start()
    restricted = {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": space.room_id}]}

    async def migrated():
        rule = await state_of(mod, energy[0].room_id, "m.room.join_rules")
        child = await state_of(mod, space.room_id, "m.space.child", energy[0].room_id)
        return rule == restricted and child == {"via": [server]}

    for _ in range(60):
        if await migrated():
            break
        await asyncio.sleep(0.5)
    assert await migrated()
    room = await room_with_bot(mod, bot.user_id)  # anna is a plain member here
    await mod.client.room_invite(room, anna.user_id)
    await anna.wait_until(lambda: room in anna.client.rooms, 20)
    # Sharing a room with the bot is not membership: the space decides.
    early = await anna.send(room, "!join energie")
    assert "for members of the community" in (await anna.reply_to(early, bot.user_id, room))["content"]["body"]
    await mod.client.room_invite(space.room_id, anna.user_id)  # test users accept invites
    await anna.wait_until(lambda: space.room_id in anna.client.rooms, 20)
    listing = await anna.send(room, "!rooms")
    body = (await anna.reply_to(listing, bot.user_id, room))["content"]["body"]
    assert body.count("\n- ") == 8 and "`energy`" in body and "members" in body
    assert len(rooms_joined_named(mod, "Energietransitie / Energiewende")) == 1

    join = await anna.send(room, "!join energie")  # fuzzy: the Dutch/German word works too
    body = (await anna.reply_to(join, bot.user_id, room))["content"]["body"]
    assert "invited you" in body
    await anna.wait_until(lambda: any(r.room_id == energy[0].room_id for r in anna.client.rooms.values()), 20)

    closed = await anna.send(room, "!join arbeitsgruppe")  # the working group: moderators invite
    assert "by invitation only" in (await anna.reply_to(closed, bot.user_id, room))["content"]["body"]

    unknown = await anna.send(room, "!join quantum-physics")
    assert "don't know a themed room" in (await anna.reply_to(unknown, bot.user_id, room))["content"]["body"]

    refused = await anna.send(room, '!room create markt "Markt" "Markt"')
    assert "Only moderators" in (await anna.reply_to(refused, bot.user_id, room))["content"]["body"]

    created = await mod.send(room, '!raum erstellen markt "Markt en handel" "Markt und Handel"')
    body = (await mod.reply_to(created, bot.user_id, room))["content"]["body"]
    assert "Markt en handel / Markt und Handel" in body
    await mod.wait_until(lambda: len(rooms_joined_named(mod, "Markt en handel / Markt und Handel")) == 1, 20)
    archived = await mod.send(room, "!room archive markt")
    assert "archived" in (await mod.reply_to(archived, bot.user_id, room))["content"]["body"]
    listing = await anna.send(room, "!rooms")
    body = (await anna.reply_to(listing, bot.user_id, room))["content"]["body"]
    assert "markt" not in body and body.count("\n- ") == 8


async def test_themed_rooms_start_with_their_translation_mode(make_bot, users, accounts):
    mod = await users("mod")
    known = set(mod.client.rooms)
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "community": {}, "translate": {}},
            "bot": {"default_language": "en", "admins": [accounts["mod"]["user_id"]]},
        }
    ).start()

    def new_room(text):
        found = [r.room_id for r in mod.client.rooms.values() if r.name and text in r.name and r.room_id not in known]
        return found[0] if found else None

    await mod.wait_until(lambda: new_room("Kennisuitwisseling") and new_room("Energietransitie"), 60)
    for name, mode in (("Kennisuitwisseling", "on reactions"), ("Energietransitie", "automatic")):
        room = new_room(name)
        asked = await mod.send(room, "!translate status")
        assert f"**{mode}**" in (await mod.reply_to(asked, bot.user_id, room))["content"]["body"]


async def test_space_members_join_themed_rooms_from_the_hierarchy(make_bot, synapse, users, accounts):
    """As in a Matrix client: a member who joined only the space sees the themed rooms in it and
    joins one with one tap (no invitation); the working group's room needs an invitation."""
    mod = await users("mod")
    known = set(mod.client.rooms)
    make_bot(extra={"plugins": {"core": {}, "community": {}}, "bot": {"admins": [accounts["mod"]["user_id"]]}}).start()

    def new_rooms(text):
        return [r.room_id for r in mod.client.rooms.values() if r.name and text in r.name and r.room_id not in known]

    await mod.wait_until(lambda: new_rooms("Wirtschaftsverband Emsland"), 60)
    (space,) = new_rooms("Wirtschaftsverband Emsland")
    # Rooms of an earlier test's bot may still come in (same names): this bot's are the space's children.
    themed: dict[str, str | None] = {}
    for _ in range(180):
        state = await mod.client.room_get_state(space)
        children = {e["state_key"] for e in state.events if e["type"] == "m.space.child" and e["content"]}
        themed = {slug: next((r for r in new_rooms(name) if r in children), None) for slug, name in NAMES.items()}
        if None not in themed.values():
            break
        await asyncio.sleep(0.5)
    assert None not in themed.values(), themed
    # bernd's app only does what the test says: he accepts the space's invitation, nothing else.
    bernd = accounts["bernd"]
    token = bernd["access_token"]
    await mod.client.room_invite(space, bernd["user_id"])
    status, _ = await client_api(synapse.url, token, "POST", f"/v3/join/{quote(space, safe='')}", {})
    assert status == 200

    path = f"/v1/rooms/{quote(space, safe='')}/hierarchy"
    status, hierarchy = await client_api(synapse.url, token, "GET", path)
    assert status == 200, hierarchy
    listed = {room["room_id"]: room for room in hierarchy["rooms"]}
    # Synapse lists what he may join; the working group's room is invisible to non-members.
    assert [slug for slug, room_id in themed.items() if room_id not in listed] == ["workgroup"]
    assert {listed[room_id]["join_rule"] for slug, room_id in themed.items() if slug != "workgroup"} == {"restricted"}
    child_of_space = {e["state_key"]: e["content"] for e in listed[space]["children_state"]}
    assert child_of_space[themed["welcome"]].get("suggested") is True  # where newcomers start
    assert not child_of_space[themed["energy"]].get("suggested")

    for slug in ("energy", "welcome"):
        status, body = await client_api(synapse.url, token, "POST", f"/v3/join/{quote(themed[slug], safe='')}", {})
        assert status == 200, (slug, body)
    status, body = await client_api(synapse.url, token, "POST", f"/v3/join/{quote(themed['workgroup'], safe='')}", {})
    assert status == 403 and body["errcode"] == "M_FORBIDDEN", body


async def joined_rooms(homeserver: str, token: str) -> set[str]:
    status, body = await client_api(homeserver, token, "GET", "/v3/joined_rooms")
    assert status == 200, body
    return set(body["joined_rooms"])


async def test_stops_during_the_first_set_up_never_duplicate_a_room(make_bot, synapse, accounts):
    """Killed (like SIGKILL) right after creating the space, and again right after creating a
    themed room, before either is recorded: the restarts reuse them — one space, one room per theme."""
    bot_token = accounts["bot"]["access_token"]  # the bot's account, seen from another device
    earlier = await joined_rooms(synapse.url, bot_token)
    bot = make_bot(extra={"plugins": {"core": {}, "community": {}}})
    for intent in ("community.space", "community.theme.energy"):
        bot.arm_failpoint(f"after-create-room:{intent}")
        with contextlib.suppress(RuntimeError):  # it may die before it reports healthy
            bot.start()
        for _ in range(150):
            if bot.proc.poll() is not None:
                break
            await asyncio.sleep(0.2)
        assert bot.proc.returncode == 137, f"the failpoint at {intent} did not fire"
    bot.start()
    made: set[str] = set()
    for _ in range(180):
        made = await joined_rooms(synapse.url, bot_token) - earlier
        if len(made) >= 1 + len(THEMES):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # a duplicate would be here by now
    made = await joined_rooms(synapse.url, bot_token) - earlier
    names = []
    for room_id in made:
        status, body = await client_api(
            synapse.url, bot_token, "GET", f"/v3/rooms/{quote(room_id, safe='')}/state/m.room.name/"
        )
        names.append(body.get("name") if status == 200 else None)
    assert sorted(names) == sorted([*NAMES.values(), "DIA — Ondernemend Emmen × Wirtschaftsverband Emsland"])
    assert "reusing a room found by its creation marker" in bot.log_text()


async def membership_of(homeserver: str, token: str, room_id: str, user_id: str) -> str | None:
    status, body = await client_api(homeserver, token, "GET", f"/v3/rooms/{quote(room_id, safe='')}/members")
    assert status == 200, body
    return next((e["content"]["membership"] for e in body["chunk"] if e["state_key"] == user_id), None)


async def wait_for_membership(homeserver: str, token: str, room_id: str, user_id: str, wanted: str) -> None:
    for _ in range(120):
        if await membership_of(homeserver, token, room_id, user_id) == wanted:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{user_id} never reached {wanted!r} in {room_id}")


async def open_direct_chat(homeserver: str, token: str, bot_id: str) -> str:
    """As Element does: a private room with is_direct, the bot invited."""
    body = {"invite": [bot_id], "is_direct": True, "preset": "trusted_private_chat"}
    status, created = await client_api(homeserver, token, "POST", "/v3/createRoom", body)
    assert status == 200, created
    return created["room_id"]


async def test_any_space_member_can_open_a_direct_chat_with_the_bot(make_bot, synapse, users, accounts):
    """The invite allowlist is for rooms the bot is brought into; a member of the space
    who is on no list may still talk to the bot in a direct chat. A stranger may not."""
    mod, stranger = await users("mod"), accounts["stranger"]
    known = set(mod.client.rooms)
    bot = make_bot(extra={"plugins": {"core": {}, "community": {}}, "bot": {"admins": [accounts["mod"]["user_id"]]}})
    bot.start()
    await mod.wait_until(
        lambda: any(
            r.name and "Wirtschaftsverband Emsland" in r.name and r.room_id not in known
            for r in mod.client.rooms.values()
        ),
        60,
    )
    (space,) = [
        r.room_id
        for r in mod.client.rooms.values()
        if r.name and "Wirtschaftsverband Emsland" in r.name and r.room_id not in known
    ]
    hs, token = synapse.url, stranger["access_token"]

    refused = await open_direct_chat(hs, token, bot.user_id)
    await wait_for_membership(hs, token, refused, bot.user_id, "leave")  # not on any list, not in the space

    await mod.client.room_invite(space, stranger["user_id"])
    status, _ = await client_api(hs, token, "POST", f"/v3/join/{quote(space, safe='')}", {})
    assert status == 200
    dm = await open_direct_chat(hs, token, bot.user_id)
    await wait_for_membership(hs, token, dm, bot.user_id, "join")
    path = f"/v3/rooms/{quote(dm, safe='')}/send/m.room.message/ping1"
    status, _ = await client_api(hs, token, "PUT", path, {"msgtype": "m.text", "body": "!ping"})
    assert status == 200
    for _ in range(80):
        path = f"/v3/rooms/{quote(dm, safe='')}/messages?dir=b&limit=20"
        status, page = await client_api(hs, token, "GET", path)
        bodies = [e["content"].get("body") for e in page["chunk"] if e["sender"] == bot.user_id]
        if "Pong!" in bodies:
            break
        await asyncio.sleep(0.25)
    assert "Pong!" in bodies
