"""`python bench/rss_bot.py -c CONFIG run`: diabot as `python -m diabot`, for
bench/idle_rss.py. $DIABOT_BENCH_PREIMPORT (comma-separated modules) are
imported first: the bench's way to show what a lazy import saves (the bot
as it was before that change). $DIABOT_BENCH_LAZY_ALEMBIC=1 tries a proposal
for diabot/storage/db.py: skip Alembic (10 MB) when the database is already at
the head revision; with $DIABOT_BENCH_LAZY_ALEMBIC=child, also run the
migrations that are needed in a child process, so Alembic never loads here.
$DIABOT_BENCH_LAZY_RAPIDFUZZ=1 tries a proposal for diabot/commands.py:
import rapidfuzz where a suggestion is computed, not at import (a stand-in
module loads the real one on first use).
Two seconds after the first sync is handled it writes its RSS and the loaded modules to $DIABOT_BENCH_RSS (JSON)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report() -> None:
    Path(os.environ["DIABOT_BENCH_RSS"]).write_text(json.dumps({"rss_mb": rss_mb(), "modules": sorted(sys.modules)}))


def head_revisions() -> set[str]:
    """The heads of migrations/versions without importing Alembic."""
    revisions, downs = set(), set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r"^revision\s*=\s*[\"']([^\"']+)", text, re.M))
        for line in re.findall(r"^down_revision\s*=\s*(.+)$", text, re.M):
            downs.update(re.findall(r"[\"']([^\"']+)[\"']", line))
    return revisions - downs


def skip_alembic_at_head() -> None:
    from sqlalchemy import text

    from diabot.storage.db import Database

    original = Database.migrate

    async def migrate(self) -> None:
        try:
            async with self.engine.connect() as conn:
                current = set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        except Exception:
            current = set()
        if current == head_revisions():
            return
        if os.environ.get("DIABOT_BENCH_LAZY_ALEMBIC") != "child":
            await original(self)
            return
        # The URL (it may hold a password) goes through stdin, not the command line.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from diabot.storage.db import migrate; migrate(sys.stdin.read())",
            stdin=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        await child.communicate(self.url.encode())
        if child.returncode:
            raise RuntimeError(f"migrations failed (exit {child.returncode})")

    Database.migrate = migrate


class _LoadOnUse:
    """Stands for a module until an attribute of it is used."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


def lazy_rapidfuzz() -> None:
    import importlib.util
    import types

    spec = importlib.util.find_spec("rapidfuzz")
    stand_in = types.ModuleType("rapidfuzz")
    stand_in.__path__ = list(spec.submodule_search_locations or [])
    stand_in.fuzz = _LoadOnUse("rapidfuzz.fuzz")
    stand_in.process = _LoadOnUse("rapidfuzz.process")
    sys.modules["rapidfuzz"] = stand_in


def install() -> None:
    if os.environ.get("DIABOT_BENCH_LAZY_RAPIDFUZZ"):
        lazy_rapidfuzz()  # before diabot.commands is imported
    try:
        from diabot.matrix.sync import SyncLoop as owner
    except ImportError:  # before the sync loop had its own module
        from diabot.matrix.client import MatrixClient as owner

    if os.environ.get("DIABOT_BENCH_LAZY_ALEMBIC"):
        skip_alembic_at_head()

    original = owner._handle_batch
    done = []

    async def handle_batch(self, *args, **kwargs):
        result = await original(self, *args, **kwargs)
        if not done:
            done.append(True)
            asyncio.get_running_loop().call_later(2.0, report)
        return result

    owner._handle_batch = handle_batch


if __name__ == "__main__":
    for name in filter(None, os.environ.get("DIABOT_BENCH_PREIMPORT", "").split(",")):
        importlib.import_module(name)
    install()
    from diabot.cli import main

    sys.exit(main(sys.argv[1:]))
