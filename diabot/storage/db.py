"""Async engine and sessions; schema only through Alembic (see migrations/)."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

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


def head_revisions() -> set[str]:
    """The head revisions of migrations/versions, read without importing Alembic."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r"^revision(?:\s*:\s*\w+)?\s*=\s*[\"']([^\"']+)", source, re.M))
        for line in re.findall(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", source, re.M):
            downs.update(re.findall(r"[\"']([^\"']+)[\"']", line))
    return revisions - downs


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

        # A session class of this database's own, so hooks (before_deleting) never
        # reach another Database in the same process (tests run many).
        self._session_class: type[Session] = type("DiabotSession", (Session,), {})
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=self._session_class)

    def before_deleting(self, model: type, callback: Callable[[object], None]) -> None:
        """Call `callback(row)` for every ORM delete of a `model` row, at flush
        (before the commit, which may still roll back)."""

        def check(session: Session, flush_context: object, instances: object) -> None:
            for obj in session.deleted:
                if isinstance(obj, model):
                    callback(obj)

        event.listen(self._session_class, "before_flush", check)

    def insert_ignoring_conflict(self, model: type, key: list[str], values: dict) -> Executable:
        """INSERT … ON CONFLICT (key) DO NOTHING; rowcount says whether it inserted."""
        insert = sqlite_insert if self.is_sqlite else pg_insert
        return insert(model).values(**values).on_conflict_do_nothing(index_elements=key)

    async def claim(self, session: AsyncSession, model: type, key: list[str], values: dict) -> bool:
        """Insert the row unless it exists, in one statement: True if this call inserted it."""
        result = await session.execute(self.insert_ignoring_conflict(model, key, values))
        return bool(getattr(result, "rowcount", 0))

    async def migrate(self) -> None:
        """Bring the schema to the head revision. Alembic (~10 MB of RSS for
        the life of the process) is only loaded when there is something to do,
        and then in a child process."""
        if await self._revisions() == head_revisions():
            return
        # The URL (it may hold a password) goes through stdin, not the command line.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from diabot.storage.db import migrate; migrate(sys.stdin.read())",
            stdin=asyncio.subprocess.PIPE,
        )
        await child.communicate(self.url.encode())
        if child.returncode:
            raise RuntimeError(f"the database migrations failed (exit {child.returncode}; see above)")

    async def _revisions(self) -> set[str]:
        try:
            async with self.engine.connect() as conn:
                return set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        except Exception:  # no table yet: a new database
            return set()

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
        insert = sqlite_insert if self.is_sqlite else pg_insert
        statement = insert(KeyValue).values(key=key, value=value)
        statement = statement.on_conflict_do_update(index_elements=["key"], set_={"value": statement.excluded.value})
        async with self.transaction() as session:
            await session.execute(statement)

    async def close(self) -> None:
        await self.engine.dispose()
