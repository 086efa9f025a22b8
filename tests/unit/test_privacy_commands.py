"""!mydata and !forget in the core plugin: only in a chat some part vouches
for as private, the export file recorded for redaction, the confirmation,
the full erase with its reason, and the leave afterwards (real SQLite; fakes
for the direct chats)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from diabot.commands import Router
from diabot.context import Context
from diabot.events import Message
from diabot.i18n import Catalog
from diabot.language import LanguageResolver
from diabot.outbox import FILE_EVENT, LEAVE_EVENT, Outbox
from diabot.plugin import PluginConfig
from diabot.privacy import Privacy
from diabot.resources import locale_dirs
from diabot.storage import Database
from diabot.storage.models import ErasureLog, OutboxMessage, SentEvent, UserSetting
from plugins.core.plugin import CorePlugin

ANNA = "@anna:example.org"
DM = "!dm:example.org"


class DirectChats:
    async def find(self, user_id: str) -> str | None:
        return DM if user_id == ANNA else None


@pytest.fixture
async def env(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.migrate()
    services = SimpleNamespace(
        db=db,
        outbox=Outbox(db),
        languages=LanguageResolver("en"),
        i18n=Catalog.from_dirs(locale_dirs(["core"])),
        privacy=Privacy(tmp_path),
        direct=DirectChats(),
        router=Router("!"),
    )
    plugin = CorePlugin(services, PluginConfig())
    services.router.add_plugin("core", plugin)
    async with db.transaction() as session:
        session.add(UserSetting(user_id=ANNA, language="en"))
    yield SimpleNamespace(db=db, services=services, plugin=plugin)
    await db.close()


async def run(env, room_id: str, command, *args) -> list[OutboxMessage]:
    """Call a command as the dispatcher would; the rows it queued, after the commit."""
    event = Message("$cmd", room_id, ANNA, 0, "m.room.message", {}, body="!")
    async with env.db.transaction() as session:
        ctx = Context(event=event, session=session, lang="en", services=env.services)
        await command(ctx, *args)
        return list(ctx.queued)


async def test_mydata_sends_the_export_only_in_the_private_chat(env):
    elsewhere = await run(env, "!themed:example.org", env.plugin.mydata)
    assert [row.event_type for row in elsewhere] == ["m.room.message"]
    assert "only works in our private chat" in elsewhere[0].content["body"]

    queued = await run(env, DM, env.plugin.mydata)
    export = next(row for row in queued if row.event_type == FILE_EVENT)
    assert json.loads(export.content["text"]) == {"user_id": ANNA, "settings": {"language": "en"}}
    async with env.db.sessions() as session:  # the file carries her data: recorded, to be redacted on !forget
        recorded = (await session.scalars(select(SentEvent))).all()
    assert [(e.outbox_id, e.user_id) for e in recorded] == [(export.id, ANNA)]


async def test_forget_asks_first_then_erases_with_the_reason_and_leaves(env):
    assert "only works in our private chat" in (await run(env, "!two:x", env.plugin.forget, None))[0].content["body"]
    assert "confirm" in (await run(env, DM, env.plugin.forget, "confirm"))[0].content["body"]  # not asked yet
    async with env.db.sessions() as session:
        assert await session.get(UserSetting, ANNA) is not None
        assert (await session.scalars(select(ErasureLog))).all() == []

    queued = await run(env, DM, env.plugin.forget, "confirm")
    assert [row.event_type for row in queued][-2:] == ["m.room.message", LEAVE_EVENT]  # the answer, then leave
    assert "deleted" in queued[-2].content["body"]
    async with env.db.sessions() as session:
        assert await session.get(UserSetting, ANNA) is None
        assert (await session.scalars(select(ErasureLog.reason))).all() == ["request"]
