"""Alembic environment: async engine, batch mode on SQLite, all plugin models."""

from __future__ import annotations

import asyncio
import importlib

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from diabot.resources import plugin_model_modules
from diabot.storage.models import Base

# Every plugin's tables belong to the one schema, enabled or not, so that
# enabling a plugin never needs a different migration history. Found through
# the installed `plugins` package, not a folder next to this file.
for module in plugin_model_modules():
    importlib.import_module(module)

target_metadata = Base.metadata
config = context.config
# Search structures a migration makes in plain SQL (SQLite's FTS5 table and its shadow tables,
# PostgreSQL's expression index): no model describes them, so the drift check leaves them alone.
SQL_ONLY_PREFIXES = ("exchange_fts", "ix_exchange_items_search_fts")


def _include(obj, name, type_, reflected, compare_to) -> bool:  # Alembic's include_object hook
    return not (reflected and compare_to is None and name is not None and name.startswith(SQL_ONLY_PREFIXES))


def _configure(connection=None, url=None) -> None:
    is_sqlite = (url or str(connection.engine.url)).startswith("sqlite")
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        include_object=_include,
    )


def _run_sync(connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
