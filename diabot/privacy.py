"""GDPR self-service across plugins: each feature registers how to export and
how to erase what it stores about a user; `!mydata` and `!forget` (the core
plugin) and the erasure of inactive members (housekeeping) use all of them.

One erase, whatever the reason: every registered part (plugins first, core
tables last), the ledger's entries naming the user, the in-memory caches, and
one line in the erasure log. That line keeps only a timestamp, why, and a
salted hash of the user id, so a repeated request can be recognised without
keeping who asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .storage.models import ErasureLog, OutboxMessage, UserSetting

if TYPE_CHECKING:
    from .sending import Sender

Exporter = Callable[[AsyncSession, str], Awaitable[Any]]
# May return outbox rows it queued (e.g. redactions): the caller hands them to
# the outbox after the commit.
Eraser = Callable[[AsyncSession, str], Awaitable[list[OutboxMessage] | None]]
# Whether a room is the user's private chat with the bot (session, user, room).
PrivateChatCheck = Callable[[AsyncSession, str, str], Awaitable[bool]]
# Drops what a feature keeps about a user in memory (a cache), after an erase.
Forgetter = Callable[[str], None]
# Which of these users agreed to be named to other members (e.g. a profile's "listed" flag).
ListingCheck = Callable[[AsyncSession, list[str]], Awaitable[set[str]]]


class ErasureReason(StrEnum):
    REQUEST = "request"  # the member asked (!forget)
    INACTIVITY = "inactivity"  # unused for too long, after a warning
    DECLINED = "declined"  # the member declined a changed privacy text


@dataclass(frozen=True)
class _Part:
    name: str
    export: Exporter
    erase: Eraser


class Privacy:
    def __init__(self, data_dir: Path):
        self._parts: list[_Part] = []
        self._private_chat_checks: list[PrivateChatCheck] = []
        self._forgetters: list[Forgetter] = []
        self._listing_checks: list[ListingCheck] = []
        self._salt_path = data_dir / "erasure-salt"
        self.register("settings", _export_settings, _erase_settings)
        self.register("outbox", _export_nothing, _erase_outbox)

    def register(self, name: str, export: Exporter, erase: Eraser) -> None:
        """Every plugin that stores something about a user registers both."""
        if any(part.name == name for part in self._parts):
            raise ValueError(f"privacy part {name!r} registered twice")
        self._parts.append(_Part(name, export, erase))

    def recognise_private_chat(self, check: PrivateChatCheck) -> None:
        """Personal data is only shown in a room some feature vouches for as the
        user's private chat with the bot (the direct chat, an onboarding chat)."""
        self._private_chat_checks.append(check)

    def forget_in_memory(self, forget: Forgetter) -> None:
        """A cache that must let go of a user when they are erased."""
        self._forgetters.append(forget)

    def recognise_listing(self, check: ListingCheck) -> None:
        """The feature that asks members whether others may see them (members: `listed`)
        says who agreed; other plugins name only those (e.g. who comes to an event)."""
        self._listing_checks.append(check)

    async def listed(self, session: AsyncSession, user_ids: list[str]) -> set[str]:
        """Those of `user_ids` who agreed to be named to other members; nobody if no feature asks."""
        agreed: set[str] = set()
        for check in self._listing_checks:
            agreed |= await check(session, user_ids)
        return agreed & set(user_ids)

    async def is_private_chat(self, session: AsyncSession, user_id: str, room_id: str) -> bool:
        # Latest first: the plugins' checks read a table; the core's (registered
        # first) may ask the homeserver.
        for check in reversed(self._private_chat_checks):
            if await check(session, user_id, room_id):
                return True
        return False

    async def export(self, session: AsyncSession, user_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"user_id": user_id}
        for part in self._parts:
            data = await part.export(session, user_id)
            if data:
                out[part.name] = data
        return out

    async def erase(self, sender: Sender, user_id: str, reason: ErasureReason) -> None:
        """Erase everything about `user_id` in the sender's transaction (a
        Context or a UnitOfWork): the same for !forget, inactivity and a
        declined privacy text. Redactions queued on the way go out with the
        sender's other messages, after the commit."""
        sender.queued.extend(await self.erase_stored(sender.session, user_id))
        await sender.ledger.forget_user(user_id)  # the bot's events naming them; redactions go to sender.queued
        sender.session.add(ErasureLog(subject_hash=self.subject_hash(user_id), reason=reason.value))
        for forget in self._forgetters:
            forget(user_id)

    async def erase_stored(self, session: AsyncSession, user_id: str) -> list[OutboxMessage]:
        """Every registered part, plugins first, core tables last (a plugin's
        eraser may still read a core row); returns the outbox rows they queued."""
        queued: list[OutboxMessage] = []
        for part in reversed(self._parts):
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
    """Unsent messages that name the user are dropped (sent ones keep no text:
    the outbox empties a row's content once it is delivered or given up)."""
    # autoescape: '_' and '%' in a Matrix ID are LIKE wildcards otherwise, and
    # erasing @a_b:x would touch @aXb:x's messages. The SQL narrows the rows,
    # names_user() decides.
    unsent = OutboxMessage.sent_at.is_(None)
    candidates = cast(OutboxMessage.content, String).contains(user_id, autoescape=True)
    for row in (await session.scalars(select(OutboxMessage).where(unsent, candidates))).all():
        if names_user(row.content, user_id):
            await session.delete(row)
