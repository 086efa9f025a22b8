"""A member whose profile and display name are markdown attacks, against a
real Synapse (SQLite and PostgreSQL): the bot's echoes show the text but make
no link and no heading of it; a town longer than the column gets a clear
answer in the member's language instead of a crash on PostgreSQL."""

import re
import uuid

import pytest

from tests.support.matrix_user import MatrixUser

from .helpers import wait_membership
from .test_members import answer, community_bot, dm_with_greeting, room_named, space_of

pytestmark = pytest.mark.integration

COMPANY = "[verify your membership](https://evil.example/login)"
DISPLAY_NAME = "Mallory\n# Heading from a name [login](https://evil.example/name)"
SECTOR = "**Bold** <https://evil.example/sector> ![x](https://evil.example/img.png)"


def assert_inert(content: dict, shown: str) -> None:
    """`shown` is in the plain body as text; the HTML has no link, no heading."""
    assert shown in content["body"].replace("\\", ""), content["body"]
    html = content.get("formatted_body", "")
    assert "<a " not in html and 'href="https://evil.example' not in html, html
    assert not re.search(r"<h[1-6]", html) and "<img" not in html, html


async def newest(user, room, bot_id) -> dict:
    return max(user.from_sender(bot_id, room), key=lambda e: e.get("origin_server_ts", 0))["content"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_hostile_profile_text_stays_text(make_bot, users, accounts, synapse, request, tmp_path, backend):
    extra = {}
    if backend == "postgresql":
        extra["database"] = {"url": request.getfixturevalue("postgres").create_database("esc_" + uuid.uuid4().hex[:8])}
    mod = await users("mod")
    creds = synapse.register("mallory" + uuid.uuid4().hex[:6], "pw-mallory")
    mallory = await MatrixUser(synapse.url, creds, tmp_path / "mallory-store").start()
    try:
        resp = await mallory.client.set_displayname(DISPLAY_NAME)
        assert not hasattr(resp, "status_code"), resp  # Synapse took the newline
        bot = community_bot(make_bot, accounts, mod, **extra)
        space = await space_of(mod)
        await mod.wait_until(lambda: room_named(mod, "Welkom / Willkommen") is not None, 60)
        welcome = room_named(mod, "Welkom / Willkommen")
        await mod.client.room_invite(space, mallory.user_id)  # a member: the bot opens the onboarding chat
        dm = await dm_with_greeting(mallory, bot.user_id)
        await mod.client.room_invite(welcome, mallory.user_id)  # so the intro uses her display name
        await wait_membership(mallory, welcome, mallory.user_id)

        await answer(mallory, dm, bot.user_id, "english")
        assert "name of your company" in await answer(mallory, dm, bot.user_id, "yes")
        assert "which town" in await answer(mallory, dm, bot.user_id, COMPANY)
        # 200 characters: the column holds 100. Said so, and the same question again.
        body = await answer(mallory, dm, bot.user_id, "Emmen" * 40)
        assert "too long" in body and "at most 100 characters" in body and "which town" in body
        assert "side of the border" in await answer(mallory, dm, bot.user_id, "Emmen")
        await answer(mallory, dm, bot.user_id, "1")
        await answer(mallory, dm, bot.user_id, SECTOR)
        for text in ("1", "1", "2", "yes"):  # themes: energy; offers; seeks; listed
            await answer(mallory, dm, bot.user_id, text)
        assert "profile is saved" in await answer(mallory, dm, bot.user_id, "yes")  # and an introduction

        await answer(mallory, dm, bot.user_id, "!profile")
        profile = await newest(mallory, dm, bot.user_id)
        assert_inert(profile, COMPANY)
        assert_inert(profile, SECTOR)
        await answer(mallory, dm, bot.user_id, "!members energy")
        assert_inert(await newest(mallory, dm, bot.user_id), COMPANY)
        await answer(mallory, dm, bot.user_id, "!join [x](https://evil.example/join)")
        unknown = await newest(mallory, dm, bot.user_id)
        assert "know a themed room" in unknown["body"]
        assert_inert(unknown, "[x](https://evil.example/join)")

        def intro():
            return [
                e["content"]
                for e in mod.from_sender(bot.user_id, welcome)
                if "evil.example/login" in e["content"].get("body", "")
            ]

        await mod.wait_until(lambda: intro(), 30)
        content = intro()[0]
        assert_inert(content, COMPANY)
        assert "Heading from a name" in content["body"] and content["m.mentions"] == {}
        # The name's newline is gone: no line of the body starts a heading.
        assert not any(line.lstrip().startswith("#") for line in content["body"].splitlines())

        # A moderator's room names are text too, and limited before the room is made.
        mod_dm = (await mod.client.room_create(is_direct=True, invite=[bot.user_id])).room_id
        await wait_membership(mod, mod_dm, bot.user_id)
        body = await answer(mod, mod_dm, bot.user_id, f'!room create grants "{"x" * 300}" "Förderung"')
        assert "too long" in body and "at most 255 characters" in body
        await answer(
            mod, mod_dm, bot.user_id, '!room create grants "[Free grants](https://evil.example/grants)" Förderung'
        )
        assert_inert(await newest(mod, mod_dm, bot.user_id), "[Free grants](https://evil.example/grants)")
        await answer(mallory, dm, bot.user_id, "!rooms")
        rooms = await newest(mallory, dm, bot.user_id)
        assert_inert(rooms, "[Free grants](https://evil.example/grants)")
        assert "x" * 50 not in rooms["body"]

        # The same limit in !profile set; the bot keeps working afterwards.
        body = await answer(mallory, dm, bot.user_id, "!profile set town " + "Meppen" * 34)
        assert "too long" in body and "at most 100 characters" in body
        assert "Pong" in await answer(mallory, dm, bot.user_id, "!ping")
        assert "Town: Emmen" in await answer(mallory, dm, bot.user_id, "!profile")
        log = bot.log_tail(100_000)
        assert "handler failed" not in log and "Traceback" not in log
    finally:
        await mallory.close()
