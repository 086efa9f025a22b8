"""Member profiles: what a field means in the members' words, reading an
answer into a field, showing a profile, and its export and erasure.

A bot message that repeats someone's profile is recorded in the core ledger
(`echoed`) naming them, so that their erasure redacts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.formatting import escape_md
from diabot.resource_types import RESOURCES
from diabot.storage.models import utcnow

from . import answers as a
from .models import Onboarding, Profile

if TYPE_CHECKING:
    from diabot.directory import ThemeInfo
    from diabot.plugin import Services
    from diabot.sending import Handle, Sender

# Profile fields by the words members use for them.
FIELD_NAMES = {
    "company": ("company", "bedrijf", "unternehmen", "firma"),
    "town": ("town", "plaats", "ort"),
    "side": ("side", "kant", "seite"),
    "sector": ("sector", "branche"),
    "themes": ("themes", "themas", "thema's", "themen"),
    "offers": ("offers", "biedt", "aanbod", "bietet", "angebot"),
    "seeks": ("seeks", "zoekt", "sucht"),
    "listed": ("listed", "zichtbaar", "sichtbar"),
}
FIELD_BY_WORD = {word: field for field, words in FIELD_NAMES.items() for word in words}
# The field words a usage line shows a user of each language (all of FIELD_BY_WORD are accepted).
FIELD_CHOICES = {
    "en": ("company", "town", "side", "sector", "themes", "offers", "seeks", "listed"),
    "nl": ("bedrijf", "plaats", "kant", "sector", "themas", "biedt", "zoekt", "zichtbaar"),
    "de": ("unternehmen", "ort", "seite", "branche", "themen", "bietet", "sucht", "sichtbar"),
}
FREE_TEXT = ("company", "town", "sector")
LANGS = ("nl", "de", "en")
# Ledger purposes: a member's introduction in the welcome room, and any other
# message showing profiles (!profile, !members).
INTRO = "members.intro"
PROFILE = "members.profile"
# What parse() may give back: the value, "skipped", "too long", or None (not understood).
Parsed = str | bool | list[str] | a.Skip | a.TooLong | None


def max_length(field: str) -> int:
    """What the profile column holds: PostgreSQL refuses more (VARCHAR(n))."""
    column = Profile.__table__.c[field].type
    assert isinstance(column, String) and column.length is not None
    return column.length


class ProfileService:
    def __init__(self, services: Services):
        self.services = services
        self._active_marked: dict[str, str] = {}  # user -> the day their activity was last written

    def t(self, lang: str, key: str, **params: object) -> str:
        return self.services.i18n.t(lang, key, **params)

    # ---- themes (from the community directory) -------------------------------------------

    def themes(self) -> list[ThemeInfo]:
        return self.services.directory.themes()

    def suggested_themes(self) -> list[ThemeInfo]:
        """The themes a member may choose for their profile (and is invited to)."""
        return [theme for theme in self.themes() if theme.suggest]

    # ---- reading answers into fields ------------------------------------------------------

    def parse(self, field: str, text: str) -> Parsed:
        if field in FREE_TEXT:
            return a.free_text(text, limit=max_length(field))
        if field == "listed":
            got = a.yes_no(text)
            return False if got is a.SKIPPED else got
        if field == "side":
            options = [
                (s, [self.t(lang, f"members.side.{s}") for lang in LANGS] + list(a.SIDE_WORDS[s])) for s in a.SIDES
            ]
            picked = a.choices(text, options, multi=False)
            return picked[0] if isinstance(picked, list) else picked
        if field == "themes":
            themes = self.suggested_themes()
            return a.choices(text, [(th.slug, [th.slug, th.name("nl"), th.name("de")]) for th in themes], multi=True)
        if field in ("offers", "seeks"):
            options = [(k, [self.t(lang, f"members.resource.{k}") for lang in LANGS] + [k]) for k in RESOURCES]
            return a.choices(text, options, multi=True)
        return None

    def fill(self, profile: Profile, answers: dict[str, Any], consent_version: int) -> None:
        """The dialogue's answers become the profile."""
        for field in ("company", "town", "side", "sector"):
            setattr(profile, field, answers.get(field))
        profile.themes = answers.get("themes", [])
        profile.offers, profile.seeks = answers.get("offers", []), answers.get("seeks", [])
        profile.listed = answers.get("listed") is True
        profile.consent_version, profile.consent_at = consent_version, utcnow()

    # ---- showing ---------------------------------------------------------------------------

    def render(self, profile: Profile, lang: str) -> str:
        names = {th.slug: th.name(lang) for th in self.themes()}
        themes = ", ".join(names[s] for s in profile.themes if s in names) or "—"
        rows = [
            ("company", profile.company or "—"),
            ("town", profile.town or "—"),
            ("side", self.t(lang, f"members.side.{profile.side}") if profile.side else "—"),
            ("sector", profile.sector or "—"),
            ("themes", themes),
            ("offers", self.resources(profile.offers, lang)),
            ("seeks", self.resources(profile.seeks, lang)),
            ("listed", self.t(lang, "members.yes") if profile.listed else self.t(lang, "members.no")),
        ]
        lines = [f"**{self.t(lang, 'members.profile.title')}**", ""]
        lines += [f"- {self.t(lang, f'members.field.{k}')}: {escape_md(v)}" for k, v in rows]
        return "\n".join(lines)

    def place(self, profile: Profile, lang: str) -> str:
        side = self.t(lang, f"members.side.{profile.side}") if profile.side else ""
        return ", ".join(p for p in (profile.town, side) if p) or "—"

    def resources(self, keys: list[str], lang: str) -> str:
        return ", ".join(self.t(lang, f"members.resource.{k}") for k in keys if k in RESOURCES) or "—"

    async def listed_in(self, session: AsyncSession, theme: ThemeInfo) -> list[Profile]:
        listed = (await session.scalars(select(Profile).where(Profile.listed.is_(True)))).all()
        found = [p for p in listed if theme.slug in (p.themes or [])]
        return sorted(found, key=lambda p: (p.company or "").lower())

    @staticmethod
    def echoed(sender: Sender, handle: Handle, user_ids: Iterable[str]) -> None:
        """A bot message that repeats these profiles: redacted when any of them is erased."""
        for user_id in user_ids:
            sender.ledger.record(handle, PROFILE, user_id=user_id)

    async def mark_active(self, session: AsyncSession, user_id: str) -> None:
        """At most one write per member and day."""
        today = datetime.now(UTC).date().isoformat()
        if self._active_marked.get(user_id) == today:
            return
        profile = await session.get(Profile, user_id)
        if profile is not None:
            profile.last_active_at, profile.warned_at = utcnow(), None
        self._active_marked[user_id] = today

    # ---- privacy: registered with services.privacy -----------------------------------------

    async def listed_among(self, session: AsyncSession, user_ids: list[str]) -> set[str]:
        """Who of `user_ids` agreed (in onboarding or with `!profile set listed`) to be seen by other members."""
        if not user_ids:
            return set()
        rows = await session.scalars(select(Profile.user_id).where(Profile.user_id.in_(user_ids), Profile.listed))
        return set(rows)

    async def export(self, session: AsyncSession, user_id: str) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        profile = await session.get(Profile, user_id)
        if profile is not None:
            out["profile"] = {c.name: getattr(profile, c.name) for c in Profile.__table__.columns}
        state = await session.get(Onboarding, user_id)
        if state is not None:
            out["onboarding"] = {
                "status": state.status,
                "step": state.step,
                "answers": state.answers,
                "started_at": state.started_at,
            }
        return out or None

    async def erase(self, session: AsyncSession, user_id: str) -> None:
        """Profile and dialogue. The bot's messages that repeated the profile
        are in the ledger naming them: the core's erase retracts those."""
        await session.execute(delete(Profile).where(Profile.user_id == user_id))
        await session.execute(delete(Onboarding).where(Onboarding.user_id == user_id))

    def forget_in_memory(self, user_id: str) -> None:
        self._active_marked.pop(user_id, None)
