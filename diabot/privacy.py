"""GDPR self-service across plugins: each feature registers how to export and
how to erase what it stores about a user; `!mydata` and `!forget` use all.

The erasure log keeps only a timestamp and a salted hash of the user id, so
a repeated request can be recognised without keeping who asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .storage.models import OutboxMessage, UserSetting

Exporter = Callable[[AsyncSession, str], Awaitable[Any]]
# May return outbox rows it queued (e.g. redactions), to be sent after commit.
Eraser = Callable[[AsyncSession, str], Awaitable[list | None]]


@dataclass(frozen=True)
class _Part:
    name: str
    export: Exporter
    erase: Eraser


class Privacy:
    def __init__(self, data_dir: Path):
        self._parts: list[_Part] = []
        self._salt_path = data_dir / "erasure-salt"
        self.register("settings", _export_settings, _erase_settings)
        self.register("outbox", _export_nothing, _erase_outbox)

    def register(self, name: str, export: Exporter, erase: Eraser) -> None:
        self._parts.append(_Part(name, export, erase))

    async def export(self, session: AsyncSession, user_id: str) -> dict:
        out: dict[str, Any] = {"user_id": user_id}
        for part in self._parts:
            data = await part.export(session, user_id)
            if data:
                out[part.name] = data
        return out

    async def erase(self, session: AsyncSession, user_id: str) -> list:
        queued: list = []
        for part in reversed(self._parts):  # plugins first, core tables last
            queued.extend(await part.erase(session, user_id) or [])
        return queued

    def subject_hash(self, user_id: str) -> str:
        if not self._salt_path.exists():
            self._salt_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._salt_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        salt = self._salt_path.read_text().strip()
        return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


async def _export_settings(session: AsyncSession, user_id: str) -> dict | None:
    row = await session.get(UserSetting, user_id)
    return {"language": row.language} if row else None


async def _erase_settings(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(UserSetting).where(UserSetting.user_id == user_id))


async def _export_nothing(session: AsyncSession, user_id: str) -> None:
    return None


def names_user(content: Any, user_id: str) -> bool:
    """Whether `user_id` itself occurs in the content: @a:x is not @a:xy,
    @a:x.org or @a:x:8448 (a server name goes on with [A-Za-z0-9-], or with
    '.'/':' before more of it; a full stop after it ends a sentence)."""
    text = json.dumps(content, ensure_ascii=False)
    pattern = re.escape(user_id) + r"(?![A-Za-z0-9-]|[.:][A-Za-z0-9])"
    return re.search(pattern, text) is not None


async def _erase_outbox(session: AsyncSession, user_id: str) -> None:
    """Sent messages keep no text; unsent ones that name the user are dropped."""
    # autoescape: '_' and '%' in a Matrix ID are LIKE wildcards otherwise, and
    # erasing @a_b:x would touch @aXb:x's messages. The SQL narrows the rows,
    # names_user() decides.
    candidates = cast(OutboxMessage.content, String).contains(user_id, autoescape=True)
    for row in (await session.scalars(select(OutboxMessage).where(candidates))).all():
        if not names_user(row.content, user_id):
            continue
        if row.sent_at is None:
            await session.delete(row)
        else:
            row.content = {}
