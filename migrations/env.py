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


def _configure(connection=None, url=None) -> None:
    is_sqlite = (url or str(connection.engine.url)).startswith("sqlite")
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
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
