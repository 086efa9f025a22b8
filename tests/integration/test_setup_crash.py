"""The first set-up of the community space survives a SIGKILL-like stop at
every step without leaving a duplicate (real Synapse): creating the space,
recording it, and for each themed room creating it, recording it, adding it
to the space, setting its join rule and powers, inviting the moderators.

The same for opening a direct chat is covered in test_members.py
(`test_a_stop_right_after_opening_the_direct_chat_never_opens_a_second`)
and test_rooms_idempotent.py."""

import asyncio
import contextlib
import sqlite3
import uuid
from collections import Counter
from urllib.parse import quote

import pytest
import yaml

pytestmark = pytest.mark.integration

# After its room is recorded a theme counts as made and the restart skips its remaining set-up steps,
# so each theme is stopped right after creation and then at one later step of its own.
LATER_STEP = {"alpha": "recorded", "beta": "child", "gamma": "configured", "delta": "invited"}
SLUGS = tuple(LATER_STEP)  # gamma: invite only, like the working group
INTENT_MARKER = "org.diabot.intent"


def setup_steps() -> list[str]:
    """Failpoints of the first set-up, in the order the bot reaches them."""
    steps = ["after-create-room:community.space", "community:space-recorded"]
    for slug, later in LATER_STEP.items():
        steps += [f"after-create-room:community.theme.{slug}", f"community:{later}:{slug}"]
    return steps


def write_themes(path, tag: str) -> dict[str, str]:
    """A short themes file; returns slug -> room name (unique to this test: the bot account is shared)."""
    themes = [
        {
            "slug": slug,
            "nl": {"name": f"Crash {tag} {slug}", "topic": "t"},
            "de": {"name": f"Crash {tag} {slug}", "topic": "t"},
            "welcome": slug == "alpha",
            "suggest": slug != "alpha",
            "invite_only": slug == "gamma",
        }
        for slug in SLUGS
    ]
    path.write_text(yaml.safe_dump({"themes": themes}))
    return {slug: f"Crash {tag} {slug}" for slug in SLUGS}


async def start_until_killed(bot, failpoint: str) -> None:
    bot.arm_failpoint(failpoint)
    with contextlib.suppress(RuntimeError):  # the failpoint may fire before /health answers
        bot.start()
    for _ in range(300):
        if bot.proc.poll() is not None:
            break
        await asyncio.sleep(0.2)
    assert bot.proc.returncode == 137, f"the failpoint {failpoint} did not fire:\n{bot.log_tail()}"


def bot_rooms_by_intent(synapse, bot) -> dict[str, list[str]]:
    """From the homeserver: every room the bot is in that this installation marked, by intent key."""
    installation = db_rows(bot, "SELECT value FROM kv WHERE key = 'installation_id'")[0][0]
    token = synapse.admin_token
    status, body = synapse.request("GET", f"/_synapse/admin/v1/users/{quote(bot.user_id)}/joined_rooms", token=token)
    assert status == 200, body
    found: dict[str, list[str]] = {}
    for room_id in body["joined_rooms"]:
        status, state = synapse.request("GET", f"/_synapse/admin/v1/rooms/{quote(room_id)}/state", token=token)
        assert status == 200, state
        for event in state["state"]:
            content = event.get("content", {})
            if event["type"] == INTENT_MARKER and content.get("installation") == installation:
                found.setdefault(content["key"], []).append(room_id)
    return found


def db_rows(bot, query: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(bot.workdir / "data" / "diabot.db")) as db:
        return db.execute(query).fetchall()


async def test_sigkill_at_every_step_of_the_first_set_up_never_makes_a_duplicate(
    make_bot, users, accounts, synapse, tmp_path
):
    mod = await users("mod")
    tag = uuid.uuid4().hex[:6]
    names = write_themes(tmp_path / "themes.yaml", tag)
    space_name = f"Crash {tag} space"
    bot = make_bot(
        extra={
            "plugins": {"core": {}, "community": {"space_name": space_name}},
            "themes_file": str(tmp_path / "themes.yaml"),
            "bot": {"default_language": "en", "admins": [accounts["mod"]["user_id"]]},
        }
    )
    for step in setup_steps():
        await start_until_killed(bot, step)
    bot.start()  # a clean start finishes the set-up
    for _ in range(120):
        if "diabot running" in bot.log_text() and len(bot_rooms_by_intent(synapse, bot)) == 1 + len(SLUGS):
            break
        await asyncio.sleep(0.5)

    # The bot's view: exactly one room per intent, each recorded.
    intents = ["community.space", *(f"community.theme.{slug}" for slug in SLUGS)]
    made = bot_rooms_by_intent(synapse, bot)
    assert {key: len(rooms) for key, rooms in made.items()} == dict.fromkeys(intents, 1), made
    rooms = {key: found[0] for key, found in made.items()}
    rows = db_rows(bot, "SELECT key, room_id, done_at FROM room_intents")
    recorded = {key: (room_id, done) for key, room_id, done in rows}
    for key in intents:
        assert recorded[key][0] == rooms[key] and recorded[key][1] is not None, (key, recorded)
    themes = dict(db_rows(bot, "SELECT slug, room_id FROM theme_rooms"))
    assert themes == {"_space": rooms["community.space"], **{s: rooms[f"community.theme.{s}"] for s in SLUGS}}

    # The moderator's view: invited to (and in) the space and every themed room, each once,
    # every themed room a child of the space, nothing outside it.
    def mine(text: str) -> list[str]:
        return [r.room_id for r in mod.client.rooms.values() if r.name and r.name == text]

    with contextlib.suppress(TimeoutError):
        await mod.wait_until(lambda: all(mine(n) for n in [space_name, *names.values()]), 60)
    assert mine(space_name) == [rooms["community.space"]]
    seen = {slug: mine(name) for slug, name in names.items()}
    assert seen == {slug: [rooms[f"community.theme.{slug}"]] for slug in SLUGS}, "the moderator's themed rooms"
    space = rooms["community.space"]
    state = await mod.client.room_get_state(space)
    children = {e["state_key"] for e in state.events if e["type"] == "m.space.child" and e["content"].get("via")}
    assert children == {rooms[f"community.theme.{slug}"] for slug in SLUGS}
    tagged = [r.room_id for r in mod.client.rooms.values() if r.name and tag in r.name]
    assert sorted(tagged) == sorted(rooms.values()), "a room of this set-up outside the space"
    assert Counter(tagged).most_common(1)[0][1] == 1
