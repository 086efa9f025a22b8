"""Database hardening on SQLite and a real PostgreSQL: failed statements do
not carry user data into logs, profile limits match the columns, and
erasing one user's outbox rows does not touch a look-alike's."""

import logging
import traceback

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from diabot.privacy import Privacy
from diabot.storage import Database
from diabot.storage.models import OutboxMessage, utcnow
from plugins.members.models import Profile
from plugins.members.profiles import FREE_TEXT, max_length

SECRET_ID = "@secret-anna:example.org"
SECRET_COMPANY = "Geheim Design BV"


async def test_a_failed_statement_shows_no_parameters(db_url, caplog):
    db = Database(db_url)
    await db.migrate()
    async with db.transaction() as session:
        session.add(Profile(user_id=SECRET_ID, company=SECRET_COMPANY, consent_version=1))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as info:
        async with db.transaction() as session:
            session.add(Profile(user_id=SECRET_ID, company=SECRET_COMPANY, consent_version=1))
    # What the error boundary would log: the message and the whole traceback.
    logged = "".join(traceback.format_exception(info.value)) + caplog.text
    assert "SQL parameters hidden" in logged
    assert SECRET_COMPANY not in logged
    assert SECRET_ID not in logged and "secret-anna" not in logged
    await db.close()


async def test_profile_limits_are_what_the_columns_hold(db_url):
    """The plugin checks answers against max_length(); PostgreSQL refuses one
    character more (SQLite would keep it, so only the check protects both)."""
    db = Database(db_url)
    await db.migrate()
    assert max_length("town") == 100 and max_length("company") == 200
    for n, field in enumerate(FREE_TEXT):
        limit = max_length(field)
        async with db.transaction() as session:
            session.add(Profile(user_id=f"@fits{n}:x", consent_version=1, **{field: "x" * limit}))
        if db.is_sqlite:
            continue
        with pytest.raises(DBAPIError, match="too long"):
            async with db.transaction() as session:
                session.add(Profile(user_id=f"@long{n}:x", consent_version=1, **{field: "x" * (limit + 1)}))
    await db.close()


async def test_erasing_a_user_leaves_look_alike_ids_alone(db_url, tmp_path):
    db = Database(db_url)
    await db.migrate()
    users = ["@a_b:x", "@aXb:x", "@a%b:x", "@a_b:xy", "@a_b:x.org", "@A_B:x"]
    async with db.transaction() as session:
        for i, user in enumerate(users):
            content = {"body": f"hello {user}.", "m.mentions": {"user_ids": [user]}}
            session.add(OutboxMessage(txn_id=f"u{i}", room_id="!r:x", event_type="m.room.message", content=content))
            session.add(
                OutboxMessage(
                    txn_id=f"s{i}",
                    room_id="!r:x",
                    event_type="m.room.message",
                    content=content,
                    sent_event_id=f"$s{i}",
                    sent_at=utcnow(),
                )
            )
    async with db.transaction() as session:
        await Privacy(tmp_path).erase_stored(session, "@a_b:x")
    async with db.sessions() as session:
        rows = {row.txn_id: row for row in (await session.scalars(select(OutboxMessage))).all()}
    assert "u0" not in rows  # its unsent message is dropped
    assert "s0" in rows  # a sent one is left alone: the outbox emptied it on delivery
    for i, user in enumerate(users[1:], start=1):
        assert f"u{i}" in rows and rows[f"s{i}"].content["m.mentions"]["user_ids"] == [user], user
    await db.close()
