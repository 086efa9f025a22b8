"""What the plugins know about the network, gathered in one place for the
digest (one message per member instead of one per plugin) and for the
working document (`!report`).

A plugin registers small functions; it never imports the digest or report
plugin, nor they it:

    services.insights.register_digest("events", upcoming_events)
    services.insights.register_report("exchange", report_rows)

A digest provider answers "what is new for this member since then", as
markdown lines in the member's language (an empty list: nothing). A report
provider answers counts as `ReportRow`s; names appear in `named` only for
members who agreed to be listed (`services.privacy.listed`), the rest are in
`count` only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

# (session, user_id, since_utc, lang) -> markdown lines of what is new for that member since `since`.
DigestProvider = Callable[[AsyncSession, str, datetime, str], Awaitable[list[str]]]

KINDS = ("seek", "offer", "match", "introduction", "active_member")
SIDES = ("nl", "de")


@dataclass(frozen=True)
class ReportRow:
    """One count of the working document: e.g. 3 offers of resource "knowledge"
    in theme "metal" from the Dutch side."""

    theme: str  # a theme slug ("" when the item has no theme)
    resource: str | None  # one of the ten resource types, None where it does not apply
    side: str | None  # "nl" | "de" | None (unknown or both)
    kind: str  # see KINDS
    count: int
    named: tuple[str, ...] = ()  # only members who agreed to be listed

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown report row kind {self.kind!r}; one of {KINDS}")
        if self.side not in (*SIDES, None):
            raise ValueError(f"unknown side {self.side!r}")
        if self.count < 0:
            raise ValueError("a count is never negative")


# (session, theme_slug or None for all) -> rows.
ReportProvider = Callable[[AsyncSession, str | None], Awaitable[list[ReportRow]]]

# A themed room's weekly digest: (session, theme_slug, since_utc, lang) -> markdown lines. Only what may be
# shown to everyone in the room (no one who did not agree to be listed).
RoomDigestProvider = Callable[[AsyncSession, str, datetime, str], Awaitable[list[str]]]

# Who gets the default (weekly) digest without having chosen: (session) -> user ids, e.g. members with a profile.
AudienceProvider = Callable[[AsyncSession], Awaitable[set[str]]]


@dataclass(frozen=True)
class DigestSection:
    """One provider's lines, under the provider's name (the digest plugin's heading key)."""

    name: str
    lines: list[str]


class Insights:
    """The registry; always present in `Services` (empty when no plugin registers)."""

    def __init__(self) -> None:
        self._digest: dict[str, DigestProvider] = {}
        self._report: dict[str, ReportProvider] = {}
        self._room: dict[str, RoomDigestProvider] = {}
        self._audience: dict[str, AudienceProvider] = {}

    def register_digest(self, name: str, provider: DigestProvider) -> None:
        if name in self._digest:
            raise ValueError(f"a digest provider {name!r} is registered already")
        self._digest[name] = provider

    def register_report(self, name: str, provider: ReportProvider) -> None:
        if name in self._report:
            raise ValueError(f"a report provider {name!r} is registered already")
        self._report[name] = provider

    def register_room_digest(self, name: str, provider: RoomDigestProvider) -> None:
        if name in self._room:
            raise ValueError(f"a room digest provider {name!r} is registered already")
        self._room[name] = provider

    def register_audience(self, name: str, provider: AudienceProvider) -> None:
        """Members who get the default digest (weekly) until they choose themselves."""
        self._audience[name] = provider

    @property
    def digest_names(self) -> list[str]:
        return list(self._digest)

    @property
    def report_names(self) -> list[str]:
        return list(self._report)

    async def digest(self, session: AsyncSession, user_id: str, since: datetime, lang: str) -> list[DigestSection]:
        """Every provider's non-empty lines, in the order they registered. A provider
        that fails is logged and left out: one broken plugin must not stop the digest."""
        return await self._sections(self._digest, session, user_id, since, lang)

    @staticmethod
    async def _sections(
        providers: dict[str, DigestProvider], session: AsyncSession, who: str, since: datetime, lang: str
    ) -> list[DigestSection]:
        sections = []
        for name, provider in providers.items():
            try:
                lines = await provider(session, who, since, lang)
            except Exception:
                log.exception("a digest provider failed", extra={"provider": name})
                continue
            if lines:
                sections.append(DigestSection(name, list(lines)))
        return sections

    async def room_digest(self, session: AsyncSession, theme: str, since: datetime, lang: str) -> list[DigestSection]:
        return await self._sections(self._room, session, theme, since, lang)

    async def audience(self, session: AsyncSession) -> set[str]:
        users: set[str] = set()
        for name, provider in self._audience.items():
            try:
                users |= await provider(session)
            except Exception:
                log.exception("an audience provider failed", extra={"provider": name})
        return users

    async def report(self, session: AsyncSession, theme: str | None) -> list[ReportRow]:
        """Every provider's rows (a failing provider is logged and left out)."""
        rows: list[ReportRow] = []
        for name, provider in self._report.items():
            try:
                rows.extend(await provider(session, theme))
            except Exception:
                log.exception("a report provider failed", extra={"provider": name})
        return rows
