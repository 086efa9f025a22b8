"""Roles beyond member and moderator (perm=Role(...)), with fakes for the room state."""

import pytest

from diabot.commands import Perm, command
from diabot.config import RoleSettings
from diabot.directory import ThemeInfo
from diabot.permissions import Permissions, Role

SPACE = "!space:x"
WORKGROUP_ROOM = "!wg:x"
BOARD_ROOM = "!board:x"


class FakeState:
    def __init__(self):
        self.levels = {(SPACE, "@mod:x"): 50, (WORKGROUP_ROOM, "@roommod:x"): 100}
        self.joined = {
            SPACE: {"@anna:x", "@wim:x", "@mod:x"},
            WORKGROUP_ROOM: {"@wim:x"},
            BOARD_ROOM: {"@bea:x"},
        }
        self.invited = {WORKGROUP_ROOM: {"@ida:x"}}

    def power_level(self, room_id, user_id):
        return self.levels.get((room_id, user_id), 0)

    async def is_creator(self, room_id, user_id):
        return False

    def is_member(self, room_id, user_id):
        return user_id in self.joined.get(room_id, set()) | self.invited.get(room_id, set())

    def has_joined(self, room_id, user_id):
        return user_id in self.joined.get(room_id, set())


class FakeDirectory:
    space_id = SPACE

    def by_slug(self, slug):
        if slug != "workgroup":
            return None
        names = {"nl": "Werkgroep", "de": "Arbeitsgruppe", "en": "Working group"}
        return ThemeInfo("workgroup", WORKGROUP_ROOM, names, "auto", False, False, False, invite_only=True)


@pytest.fixture
def permissions():
    roles = {
        "workgroup": RoleSettings(users=["@listed:x"], room="workgroup"),  # by theme slug
        "board": RoleSettings(room=BOARD_ROOM),  # by room id
        "nobody": RoleSettings(),
    }
    return Permissions(FakeState(), FakeDirectory(), 50, ["@admin:x"], roles)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("@listed:x", True),  # listed in the config, in no room
        ("@wim:x", True),  # joined the working group's room (found by its theme slug)
        ("@ida:x", False),  # only invited there: not yet a member of the group
        ("@anna:x", False),  # a member of the space, not of the group
        ("@mod:x", True),  # community moderators have every role
        ("@admin:x", True),  # so have bot.admins
        ("@roommod:x", False),  # power in the group's room is not community power
        ("@stranger:y", False),
    ],
)
async def test_workgroup_role(permissions, user, allowed):
    assert await permissions.allows(Role("workgroup"), "!anywhere:x", user) is allowed


async def test_role_by_room_id(permissions):
    assert await permissions.allows(Role("board"), "!anywhere:x", "@bea:x")
    assert not await permissions.allows(Role("board"), "!anywhere:x", "@wim:x")


async def test_role_without_members_or_config_is_for_moderators_only(permissions):
    for role in (Role("nobody"), Role("not-configured")):
        assert not await permissions.allows(role, "!anywhere:x", "@wim:x")
        assert await permissions.allows(role, "!anywhere:x", "@mod:x")


async def test_role_room_unknown_theme_gives_no_members():
    roles = {"workgroup": RoleSettings(room="no-such-theme")}
    permissions = Permissions(FakeState(), FakeDirectory(), 50, [], roles)
    assert not await permissions.has_role("workgroup", "@wim:x")


async def test_plain_perms_are_unchanged(permissions):
    assert await permissions.allows(Perm.MEMBER, "!r:x", "@anna:x")
    assert not await permissions.allows(Perm.MEMBER, "!r:x", "@stranger:y")
    assert await permissions.allows(Perm.ROOM_MODERATOR, WORKGROUP_ROOM, "@roommod:x")
    assert not await permissions.allows(Perm.MODERATOR, WORKGROUP_ROOM, "@roommod:x")
    assert await permissions.allows(Perm.MODERATOR, "!r:x", "@mod:x")


def test_role_config_needs_full_matrix_ids():
    with pytest.raises(ValueError, match="full Matrix ID"):
        RoleSettings(users=["wim"])


async def test_a_command_declares_a_role_as_its_perm(permissions):
    @command("minutes", help="core.ping.help", perm=Role("workgroup"))
    async def minutes(ctx):
        pass

    spec = minutes.__diabot_command__
    assert spec.perm == Role("workgroup")
    assert await permissions.allows(spec.perm, "!r:x", "@wim:x")
    assert not await permissions.allows(spec.perm, "!r:x", "@anna:x")
