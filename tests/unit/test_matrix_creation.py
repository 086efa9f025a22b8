"""Idempotent room creation against a fake homeserver (real SQLite): the
intent row comes first, the marker is in the initial state, and a replay at
any point (row without a room id, no row at all, a direct chat of the earlier
version) reuses the room instead of creating a second one."""

import itertools
from types import SimpleNamespace

import pytest
from nio import JoinedRoomsResponse, RoomCreateError, RoomCreateResponse, RoomGetStateEventError
from nio import RoomGetStateEventResponse as StateResponse
from sqlalchemy import select

from diabot.direct import DirectChats
from diabot.errors import TransientError
from diabot.matrix.client import MatrixClient
from diabot.matrix.creation import INSTALLATION_KEY, INTENT_MARKER, LEGACY_DIRECT_MARKER, RoomCreator
from diabot.matrix.rooms import Rooms
from diabot.storage import Database
from diabot.storage.models import RoomIntent


class FakeHomeserver:
    """Rooms with state; room_create can fail before or after the room exists."""

    def __init__(self):
        self.state: dict[str, dict[str, dict]] = {}  # room id -> event type -> content
        self.joined: list[str] = []
        self.created: list[dict] = []
        self.rooms: dict = {}  # nio's synced rooms: empty, as right after a restart
        self.fail_create: str | None = None  # "before" (nothing made) or "after" (made, answer lost)
        self.ids = itertools.count(1)

    async def room_create(self, **kwargs):
        if self.fail_create == "before":
            return answered(RoomCreateError("bad gateway"), 502)
        room_id = f"!room{next(self.ids)}:x"
        self.created.append(kwargs)
        self.state[room_id] = {e["type"]: e["content"] for e in kwargs["initial_state"]}
        self.joined.append(room_id)
        if self.fail_create == "after":
            raise TimeoutError  # the room exists, the answer never came
        return answered(RoomCreateResponse(room_id), 200)

    async def joined_rooms(self):
        return answered(JoinedRoomsResponse(list(self.joined)), 200)

    async def room_get_state_event(self, room_id, event_type, state_key=""):
        content = self.state.get(room_id, {}).get(event_type)
        if content is None:
            return answered(RoomGetStateEventError("not found", "M_NOT_FOUND"), 404)
        return answered(StateResponse(content, event_type, state_key, room_id), 200)

    def room(self, **state):
        room_id = f"!room{next(self.ids)}:x"
        self.state[room_id] = state
        self.joined.append(room_id)
        return room_id


def answered(resp, status):
    resp.transport_response = SimpleNamespace(status=status)
    return resp


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await database.migrate()
    await database.set_value(INSTALLATION_KEY, "inst1")
    yield database
    await database.close()


def creator_for(server, db):
    session = SimpleNamespace(nio=server, logged_in=True, user_id="@bot:x")
    return RoomCreator(session, db, Rooms(session))


async def intent_rows(db):
    async with db.sessions() as session:
        return {r.key: r.room_id for r in (await session.scalars(select(RoomIntent))).all()}


async def test_creates_once_with_the_marker_and_records_the_room(db):
    server = FakeHomeserver()
    creator = creator_for(server, db)
    first = await creator.create_room("Space", "topic", intent="community.space", space=True, invite=["@m:x"])
    again = await creator.create_room("Space", "topic", intent="community.space", space=True)
    assert first == again and len(server.created) == 1
    assert server.state[first][INTENT_MARKER] == {"key": "community.space", "installation": "inst1"}
    assert server.created[0]["invite"] == ["@m:x"] and server.created[0]["space"] is True
    assert await intent_rows(db) == {"community.space": first}


async def test_a_new_process_after_a_stop_between_creation_and_record_reuses_the_room(db):
    """The failpoint `after-create-room:<intent>` window: the room exists with its marker, the row has no id."""
    server = FakeHomeserver()
    server.fail_create = "after"
    with pytest.raises(TransientError):
        await creator_for(server, db).create_room("Theme", "", intent="community.theme.koken")
    assert await intent_rows(db) == {"community.theme.koken": None}  # the intent was recorded first
    server.fail_create = None
    room = await creator_for(server, db).create_room("Theme", "", intent="community.theme.koken")
    assert len(server.created) == 1 and room == server.joined[0]
    assert await intent_rows(db) == {"community.theme.koken": room}


async def test_a_missing_intent_row_is_found_by_the_marker(db):
    server = FakeHomeserver()
    made = server.room(**{INTENT_MARKER: {"key": "community.space", "installation": "inst1"}})
    assert await creator_for(server, db).create_room("Space", "", intent="community.space") == made
    assert server.created == []


async def test_markers_of_other_installations_and_other_intents_are_not_ours(db):
    server = FakeHomeserver()
    server.room(**{INTENT_MARKER: {"key": "community.space", "installation": "another"}})
    server.room(**{INTENT_MARKER: {"key": "community.theme.a", "installation": "inst1"}})
    server.room()
    room = await creator_for(server, db).create_room("Space", "", intent="community.space")
    assert len(server.created) == 1 and server.state[room][INTENT_MARKER]["installation"] == "inst1"


async def test_a_failure_before_the_room_exists_is_transient_and_the_retry_creates_it(db):
    server = FakeHomeserver()
    server.fail_create = "before"
    creator = creator_for(server, db)
    with pytest.raises(TransientError):
        await creator.create_room("T", "", intent="t")
    server.fail_create = None
    room = await creator.create_room("T", "", intent="t")
    assert len(server.created) == 1 and await intent_rows(db) == {"t": room}


async def test_a_refusal_is_not_transient(db):
    server = FakeHomeserver()

    async def refuse(**kwargs):
        return answered(RoomCreateError("no", "M_FORBIDDEN"), 403)

    server.room_create = refuse
    with pytest.raises(RuntimeError) as caught:
        await creator_for(server, db).create_room("T", "", intent="t")
    assert not isinstance(caught.value, TransientError)


async def test_a_room_the_bot_left_is_not_reused(db):
    server = FakeHomeserver()
    creator = creator_for(server, db)
    first = await creator.create_room("T", "", intent="t")
    server.joined.remove(first)
    second = await creator_for(server, db).create_room("T", "", intent="t")
    assert second != first and len(server.created) == 2


def client_on(server, db):
    settings = SimpleNamespace(user_id="@bot:x", undecryptable_notice_after_s=20)
    client = MatrixClient(settings, None, db, 3600)  # type: ignore[arg-type]
    client.session._client = server
    return client


async def test_direct_chats_are_encrypted_invite_once_and_find_the_earlier_versions_marker(db):
    server = FakeHomeserver()
    direct = DirectChats(client_on(server, db))
    legacy = server.room(**{LEGACY_DIRECT_MARKER: {"user_id": "@old:x", "installation": "inst1"}})
    assert await direct.find("@old:x") == legacy
    assert await direct.open("@old:x") == legacy
    assert await direct.find("@new:x") is None
    room = await direct.open("@new:x")
    assert await direct.open("@new:x") == room and await direct.find("@new:x") == room
    [made] = server.created
    assert made["invite"] == ["@new:x"] and made["is_direct"] is True
    assert server.state[room]["m.room.encryption"] == {"algorithm": "m.megolm.v1.aes-sha2"}
    assert server.state[room][INTENT_MARKER]["key"] == "direct:@new:x"
    assert await intent_rows(db) == {"direct:@old:x": legacy, "direct:@new:x": room}
