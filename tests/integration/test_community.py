"""The community space and its themed rooms against a real Synapse."""

from pathlib import Path

import pytest
import yaml

from .helpers import room_with_bot

pytestmark = pytest.mark.integration
THEMES = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "themes.yaml").read_text())["themes"]


def rooms_joined_named(user, text):
    return [r for r in user.client.rooms.values() if r.name and text in r.name]


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

    # A restart creates nothing new.
    bot.stop()
    bot.start()
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
