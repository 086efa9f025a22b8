"""Schema only through Alembic; the same code on SQLite and PostgreSQL."""

import asyncio

import pytest
from sqlalchemy import inspect, select

from diabot.storage import Database
from diabot.storage.db import alembic_config
from diabot.storage.models import HandledEvent, OutboxMessage


def _table_names(url):
    async def run():
        db = Database(url)
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        await db.close()
        return set(names)

    return asyncio.run(run())


def test_empty_to_head_and_no_drift(db_url):
    from alembic import command
    from alembic.util.exc import CommandError

    assert _table_names(db_url) == set()
    command.upgrade(alembic_config(db_url), "head")
    assert {"handled_events", "outbox", "known_rooms", "user_settings", "kv", "alembic_version"} <= _table_names(db_url)
    command.check(alembic_config(db_url))  # raises if models and migrations differ
    # And check() can fail: a model change without migration is detected.
    from sqlalchemy import Column, Integer, Table

    from diabot.storage.models import Base

    extra = Table("drift_probe", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        with pytest.raises(CommandError):
            command.check(alembic_config(db_url))
    finally:
        Base.metadata.remove(extra)
    command.downgrade(alembic_config(db_url), "base")
    assert _table_names(db_url) <= {"alembic_version"}


async def test_event_and_effects_commit_together(db_url):
    db = Database(db_url)
    await db.migrate()
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            session.add(HandledEvent(event_id="$a", room_id="!r"))
            session.add(
                OutboxMessage(txn_id="t1", room_id="!r", event_type="m.room.message", content={"body": "x"}, attempts=0)
            )
            raise RuntimeError("handler crashed")
    async with db.sessions() as session:
        assert (await session.scalars(select(HandledEvent))).all() == []
        assert (await session.scalars(select(OutboxMessage))).all() == []
    async with db.transaction() as session:
        session.add(HandledEvent(event_id="$a", room_id="!r"))
        session.add(
            OutboxMessage(txn_id="t1", room_id="!r", event_type="m.room.message", content={"body": "ü ✓"}, attempts=0)
        )
    async with db.sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
        assert row.content == {"body": "ü ✓"}
    await db.set_value("sync_token", "s1")
    await db.set_value("sync_token", "s2")
    assert await db.get_value("sync_token") == "s2"
    assert await db.ping()
    await db.close()
