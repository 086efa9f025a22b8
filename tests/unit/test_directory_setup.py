"""The community plugin's set-up of the space and its themed rooms, with a fake
homeserver edge (real Synapse: tests/integration/test_community.py): what a
first start makes, that a second one changes nothing, that rooms of older
versions are brought up to date, and that a stop half-way never duplicates."""

from types import SimpleNamespace

import pytest

from diabot.directory import CommunityDirectory, load_themes
from diabot.storage import Database
from plugins.community.plugin import CommunityConfig, CommunityPlugin

THEMES = load_themes()  # the shipped ones: welcome, ..., workgroup
SLUGS = [t.slug for t in THEMES]


class Stopped(Exception):
    """The bot stopped right after a room was created (before anything was recorded)."""


class FakeRooms:
    """The homeserver as the plugin sees it; create_room is idempotent per intent, as the edge's is."""

    def __init__(self):
        self.by_intent: dict[str, str] = {}
        self.state: dict[tuple[str, str, str], dict] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.invited: list[tuple[str, str]] = []
        self.stop_after: str | None = None

    async def create_room(self, name, topic, *, intent, space=False, parent=None, invite=(), join_rule=None, **_):
        if intent in self.by_intent:
            return self.by_intent[intent]
        room_id = f"!{intent}:x"
        self.by_intent[intent] = room_id
        rule: dict = {"join_rule": join_rule or "invite"}
        if join_rule == "restricted":
            rule["allow"] = [{"type": "m.room_membership", "room_id": parent}]
        self.state[(room_id, "m.room.join_rules", "")] = rule
        self.state[(room_id, "m.room.power_levels", "")] = {"users": {"@bot:x": 100}}
        self.invited += [(room_id, user) for user in invite]
        if intent == self.stop_after:
            self.stop_after = None
            raise Stopped(intent)
        return room_id

    async def get_state(self, room_id, event_type, state_key=""):
        return self.state.get((room_id, event_type, state_key))

    async def put_state(self, room_id, event_type, content, state_key=""):
        self.writes.append((room_id, event_type, state_key))
        self.state[(room_id, event_type, state_key)] = content

    async def set_power(self, room_id, levels):
        content = self.state.setdefault((room_id, "m.room.power_levels", ""), {"users": {}})
        content["users"].update(levels)
        self.writes.append((room_id, "m.room.power_levels", ""))

    def is_member(self, room_id, user_id):
        return (room_id, user_id) in self.invited

    async def invite(self, room_id, user_id):
        self.invited.append((room_id, user_id))
        return True


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    await database.migrate()
    yield database
    await database.close()


async def start(db, rooms) -> CommunityPlugin:
    """A (re)start: a fresh directory loaded from the database, the plugin's set-up run once."""
    directory = CommunityDirectory(db, THEMES)
    await directory.load()
    services = SimpleNamespace(
        db=db,
        rooms=rooms,
        directory=directory,
        bot_user_id="@bot:x",
        settings=SimpleNamespace(bot=SimpleNamespace(admins=["@admin:x"])),
    )
    plugin = CommunityPlugin(services, CommunityConfig(moderators=["@mod:x"]))
    await plugin.ensure_rooms()
    return plugin


def room(slug: str) -> str:
    return f"!community.theme.{slug}:x"


SPACE = "!community.space:x"


async def test_first_start_makes_the_space_and_a_joinable_room_per_theme(db):
    rooms = FakeRooms()
    plugin = await start(db, rooms)
    directory = plugin.directory
    assert directory.space_id == SPACE
    assert [t.slug for t in directory.themes()] == SLUGS
    restricted = {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": SPACE}]}
    for slug in SLUGS:
        child = rooms.state[(SPACE, "m.space.child", room(slug))]
        assert child["via"] == ["x"]
        assert child.get("suggested", False) is (slug == "welcome")  # suggested: only where newcomers start
        rule = rooms.state[(room(slug), "m.room.join_rules", "")]
        assert rule == ({"join_rule": "invite"} if slug == "workgroup" else restricted)
        levels = rooms.state[(room(slug), "m.room.power_levels", "")]["users"]
        assert levels["@mod:x"] == 50 and levels["@admin:x"] == 50
        assert (room(slug), "@mod:x") in rooms.invited
    assert directory.welcome_room().slug == "welcome"
    assert directory.by_slug("workgroup").invite_only


async def test_moderators_are_invited_after_the_room_joined_the_space(db):
    order: list[str] = []
    rooms = FakeRooms()
    original_put, original_invite = rooms.put_state, rooms.invite

    async def put_state(room_id, event_type, content, state_key=""):
        order.append(f"child {state_key}" if event_type == "m.space.child" else event_type)
        await original_put(room_id, event_type, content, state_key)

    async def invite(room_id, user_id):
        order.append(f"invite {room_id}")
        return await original_invite(room_id, user_id)

    rooms.put_state, rooms.invite = put_state, invite
    await start(db, rooms)
    for slug in SLUGS:
        assert order.index(f"child {room(slug)}") < order.index(f"invite {room(slug)}")


async def test_a_restart_changes_nothing(db):
    rooms = FakeRooms()
    await start(db, rooms)
    made, writes, invited = dict(rooms.by_intent), len(rooms.writes), len(rooms.invited)
    await start(db, rooms)
    assert rooms.by_intent == made and len(rooms.writes) == writes and len(rooms.invited) == invited


async def test_rooms_of_older_versions_are_brought_up_to_date(db):
    rooms = FakeRooms()
    await start(db, rooms)
    # As an older version left them: invite-only, suggested by `suggest`, no moderator power.
    rooms.state[(room("energy"), "m.room.join_rules", "")] = {"join_rule": "invite"}
    rooms.state[(SPACE, "m.space.child", room("energy"))] = {"via": ["x"], "suggested": True}
    rooms.state[(room("skills"), "m.room.power_levels", "")] = {"users": {"@bot:x": 100}}
    rooms.writes.clear()
    await start(db, rooms)
    assert sorted(rooms.writes) == sorted(
        [
            (room("energy"), "m.room.join_rules", ""),
            (SPACE, "m.space.child", room("energy")),
            (room("skills"), "m.room.power_levels", ""),
        ]
    )
    assert rooms.state[(room("energy"), "m.room.join_rules", "")]["join_rule"] == "restricted"
    assert rooms.state[(SPACE, "m.space.child", room("energy"))] == {"via": ["x"]}


@pytest.mark.parametrize("stop_at", ["community.space", "community.theme.welcome", "community.theme.energy"])
async def test_a_stop_right_after_a_creation_is_resumed_with_the_same_room(db, stop_at):
    rooms = FakeRooms()
    rooms.stop_after = stop_at
    with pytest.raises(Stopped):
        await start(db, rooms)
    plugin = await start(db, rooms)
    assert len(rooms.by_intent) == 1 + len(SLUGS)  # one space, one room per theme
    assert [t.room_id for t in plugin.directory.themes()] == [room(slug) for slug in SLUGS]
    assert plugin.directory.space_id == SPACE
    assert (SPACE, "m.space.child", room("energy")) in rooms.state


async def test_an_archived_theme_is_not_made_again_nor_put_back_in_the_space(db):
    rooms = FakeRooms()
    plugin = await start(db, rooms)
    async with db.transaction() as session:
        await plugin.directory.archive(session, "energy")
    await rooms.put_state(SPACE, "m.space.child", {}, state_key=room("energy"))  # as `room archive` does
    rooms.writes.clear()
    plugin = await start(db, rooms)
    assert rooms.writes == []
    assert len(rooms.by_intent) == 1 + len(SLUGS)
    assert plugin.directory.find("energie") is None
