"""Migration 0007: what the bot sent before the ledger (translation links,
profile echoes) is found in the ledger after the upgrade, on SQLite and
PostgreSQL; the old tables and the unused "reads both" setting are gone."""

import asyncio

from sqlalchemy import inspect, select, text

from diabot.ledger import Ledger
from diabot.outbox import Outbox
from diabot.storage import Database
from diabot.storage.db import alembic_config, migrate
from diabot.storage.models import SentEvent

ANNA, BERND = "@anna:x", "@bernd:x"
ROOM, WELCOME = "!room:x", "!welcome:x"

# Written with the schema of 0006: literals only, so the same SQL runs on both databases.
OLD_ROWS = [
    f"""INSERT INTO outbox (id, txn_id, room_id, event_type, content, created_at, attempts, sent_event_id)
        VALUES (1, 't1', '{ROOM}', 'm.room.message', '{{}}', CURRENT_TIMESTAMP, 1, '$t-de-1'),
               (2, 't2', '{ROOM}', 'm.room.message', '{{}}', CURRENT_TIMESTAMP, 1, '$t-de-2'),
               (3, 't3', '{ROOM}', 'm.room.message', '{{}}', CURRENT_TIMESTAMP, 1, '$t-de-edit'),
               (4, 't4', '{ROOM}', 'm.room.message', '{{}}', CURRENT_TIMESTAMP, 0, NULL),
               (5, 't5', '{WELCOME}', 'm.room.message', '{{}}', CURRENT_TIMESTAMP, 1, '$intro')""",
    # Anna's message translated into German in two parts, that translation
    # edited, and Bernd's into Dutch (not sent yet).
    f"""INSERT INTO translation_links (id, room_id, source_event_id, target_lang, outbox_id, author)
        VALUES (1, '{ROOM}', '$anna-msg', 'de', 1, '{ANNA}'),
               (2, '{ROOM}', '$anna-msg', 'de', 2, '{ANNA}'),
               (3, '{ROOM}', '$anna-msg', 'edit:de', 3, '{ANNA}'),
               (4, '{ROOM}', '$bernd-msg', 'nl', 4, '{BERND}')""",
    # Anna's introduction; an echo whose outbox row is gone has nothing left to redact.
    f"INSERT INTO profile_echoes (id, user_id, outbox_id) VALUES (1, '{ANNA}', 5), (2, '{BERND}', 99)",
    f"INSERT INTO translate_users (user_id, translate_mine, reads_both) VALUES ('{ANNA}', false, true)",
]


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _columns(db: Database, table: str) -> set[str]:
    async with db.engine.connect() as conn:
        return {c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns(table))}


async def test_translation_links_and_profile_echoes_move_into_the_ledger(db_url):
    await asyncio.to_thread(migrate, db_url, "0006")
    db = Database(db_url)
    try:
        async with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                await conn.execute(text(statement))

        await asyncio.to_thread(migrate, db_url, "0007")

        async with db.sessions() as session:
            rows = (await session.scalars(select(SentEvent).order_by(SentEvent.id))).all()
            got = [(r.outbox_id, r.room_id, r.purpose, r.subject, r.user_id, r.detail) for r in rows]
            assert got == [
                (1, ROOM, "translate.translation", "$anna-msg", ANNA, "de"),
                (2, ROOM, "translate.translation", "$anna-msg", ANNA, "de"),
                (3, ROOM, "translate.edit", "$anna-msg", ANNA, "de"),
                (4, ROOM, "translate.translation", "$bernd-msg", BERND, "nl"),
                (5, WELCOME, "members.profile", None, ANNA, None),
            ]
            assert all(r.created_at is not None for r in rows)
            # What the plugins ask after the upgrade: the first part of the German
            # translation (to edit it), and everything naming Anna (to erase it).
            ledger = Ledger(session, Outbox(db))
            (first, *_) = await ledger.find("translate.translation", subject="$anna-msg", detail="de")
            assert (first.outbox_id, first.event_id) == (1, "$t-de-1")
            assert [e.outbox_id for e in await ledger.find(user_id=ANNA)] == [1, 2, 3, 5]
            assert [e.event_id for e in await ledger.find(user_id=BERND)] == [None]  # unsent: dropped on retract

        tables = await _tables(db)
        assert "translation_links" not in tables and "profile_echoes" not in tables
        assert await _columns(db, "translate_users") == {"user_id", "translate_mine"}
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT user_id, translate_mine FROM translate_users"))).all() == [
                (ANNA, False)
            ]

        # Down again: the old tables come back empty, the setting with its default.
        await asyncio.to_thread(_downgrade, db_url, "0006")
        assert {"translation_links", "profile_echoes"} <= await _tables(db)
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM translation_links"))).scalar() == 0
            assert (await conn.execute(text("SELECT reads_both FROM translate_users"))).all() == [(False,)]
        await asyncio.to_thread(migrate, db_url, "head")  # and up once more over the empty tables
    finally:
        await db.close()


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
