"""Async engine and sessions; schema only through Alembic (see migrations/)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from ..resources import migrations_dir
from .models import KeyValue

# At DEBUG these log every statement's parameters (aiosqlite) and fetched rows
# (SQLAlchemy): user IDs and profile text. Quiet unless configured explicitly.
_CHATTY = ("aiosqlite", "sqlalchemy.engine")


def _scrub_details(context) -> None:
    """PostgreSQL's DETAIL repeats the row's values ("Key (user_id)=(@anna:x)
    already exists", "Failing row contains (...)"); asyncpg puts it into the
    message of the exception SQLAlchemy chains as the cause, so it would be
    logged with the traceback. Drop it; the message names the constraint."""
    seen, exc = set(), context.original_exception
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "detail", None) is not None and type(exc).__module__.startswith("asyncpg"):
            exc.detail = None
        exc = exc.__cause__ or exc.__context__


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # '%' would be read as interpolation by configparser.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Blocking; call from a thread (env.py runs its own event loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: a failed statement's message (logged with the
        # traceback) must not carry user IDs, company names or other values.
        self.engine = create_async_engine(url, pool_pre_ping=not self.is_sqlite, hide_parameters=True)
        event.listen(self.engine.sync_engine, "handle_error", _scrub_details)
        for name in _CHATTY:
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.WARNING)
        if self.is_sqlite:
            # WAL + NORMAL: a commit is durable against process crashes
            # (SIGKILL) without an fsync per command; busy_timeout for the
            # migration thread and the app sharing the file.
            @event.listens_for(self.engine.sync_engine, "connect")
            def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        await asyncio.to_thread(migrate, self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self, timeout_s: float = 1.5) -> bool:
        async def select_one() -> None:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))

        try:
            # Bounded: /health must answer even while the database hangs.
            await asyncio.wait_for(select_one(), timeout_s)
            return True
        except Exception:
            return False

    async def get_value(self, key: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(select(KeyValue.value).where(KeyValue.key == key))

    async def set_value(self, key: str, value: str) -> None:
        async with self.transaction() as session:
            await session.merge(KeyValue(key=key, value=value))

    async def close(self) -> None:
        await self.engine.dispose()
