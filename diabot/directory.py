"""The community directory: the space, its themed rooms and what each theme is.

One service for every plugin (translate, members, the next ones), so that no
plugin reads another plugin's tables or knows a theme by a string literal.
The themes are defined in themes.yaml (names, topics, translation mode and
the flags `suggest`, `welcome`, `invite_only`); the rooms made for them are
rows of the core table `theme_rooms`. Both are held in memory: loaded at
start, and kept current by `remember`/`archive`, which change the cache only
once the transaction that records the change has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import ConfigError
from .storage.models import ThemeRoom, aware, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from .storage import Database

log = logging.getLogger(__name__)

SPACE_SLUG = "_space"  # the space's row in theme_rooms
LEGACY_SPACE_KEY = "community.space_id"  # kv key of older versions
LANGS = ("nl", "de", "en")
# WRatio of a typed name against the labels of a theme; below this it is no match.
FIND_CUTOFF = 75

TranslationMode = Literal["auto", "reactions", "off"]


# ---- themes.yaml -------------------------------------------------------------------------


class ThemeText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)  # theme_rooms.name_nl/_de
    topic: str = ""


class Theme(BaseModel):
    """One theme of themes.yaml."""

    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    nl: ThemeText
    de: ThemeText
    en: ThemeText | None = None  # default name: "<nl> / <de>"
    translation: TranslationMode = "auto"
    # Offered in onboarding and auto-invited; false for the welcome room and the working group.
    suggest: bool = True
    # Where new members introduce themselves; suggested in the space (at most one theme).
    welcome: bool = False
    # Joinable only by invitation (the working group); other themed rooms are open to space members.
    invite_only: bool = False

    def topic(self) -> str:
        return room_topic(self.nl.topic, self.de.topic)


class ThemesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    themes: list[Theme] = []

    @model_validator(mode="after")
    def _consistent(self) -> ThemesFile:
        slugs = [t.slug for t in self.themes]
        doubles = sorted({s for s in slugs if slugs.count(s) > 1})
        if doubles:
            raise ValueError(f"slugs used twice: {', '.join(doubles)}")
        welcome = [t.slug for t in self.themes if t.welcome]
        if len(welcome) > 1:
            raise ValueError(f"only one theme can be the welcome room, not {', '.join(welcome)}")
        return self


def room_name(nl: str, de: str) -> str:
    return nl if nl == de else f"{nl} / {de}"


def room_topic(nl: str, de: str) -> str:
    return "\n".join(t for t in (f"🇳🇱 {nl}" if nl else "", f"🇩🇪 {de}" if de else "") if t)


def default_themes_path() -> Path:
    from .resources import default_themes_file

    return default_themes_file()


def load_themes(path: Path | None = None) -> list[Theme]:
    """The themes of `path` (default: the ones shipped with diabot); problems as a ConfigError."""
    path = path or default_themes_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the themes ({exc.strerror})"]) from None
    except yaml.YAMLError:
        raise ConfigError([f"{path}: not valid YAML"]) from None
    try:
        return ThemesFile.model_validate(data).themes
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"]) or "(top level)"
            problems.append(f"{path}: {where}: {err['msg']}")
        raise ConfigError(problems) from None


# ---- the directory -----------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeInfo:
    slug: str
    room_id: str
    names: dict[str, str]  # nl, de, en
    translation: str  # auto | reactions | off
    suggest: bool
    welcome: bool
    archived: bool
    invite_only: bool = False
    created_at: datetime = field(default_factory=utcnow, compare=False)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


class CommunityDirectory:
    """Replaces the plugins' own lookups of the space and the themed rooms."""

    def __init__(self, db: Database, themes: list[Theme], configured_space: str | None = None):
        self.db = db
        self.configured = {t.slug: t for t in themes}  # themes.yaml, in file order
        self.configured_space = configured_space  # invites.space in the config, if set
        self._rows: dict[str, ThemeInfo] = {}  # slug -> themed room (not the space)
        self._space: str | None = configured_space

    async def load(self) -> None:
        """Read what exists (after the migrations, before the plugins start)."""
        async with self.db.transaction() as session:
            rows = (await session.scalars(select(ThemeRoom))).all()
        self._rows = {}
        for row in rows:
            self._apply(row.slug, row.room_id, row.name_nl, row.name_de, row.archived, aware(row.created_at))
        if self._space is None:
            self._space = await self.db.get_value(LEGACY_SPACE_KEY)

    # ---- reading ------------------------------------------------------------------------

    @property
    def space_id(self) -> str | None:
        return self._space

    def themes(self, include_archived: bool = False) -> list[ThemeInfo]:
        """Themed rooms in the order they were made (themes.yaml order at the first start)."""
        rooms = [t for t in self._rows.values() if include_archived or not t.archived]
        return sorted(rooms, key=lambda t: (t.created_at, t.slug))

    def by_slug(self, slug: str) -> ThemeInfo | None:
        return self._rows.get(slug)

    def theme_of(self, room_id: str) -> ThemeInfo | None:
        return next((t for t in self._rows.values() if t.room_id == room_id), None)

    def find(self, text: str, include_archived: bool = False) -> ThemeInfo | None:
        """The theme a member means by `text`: its slug or a name in nl, de or en, typos allowed."""
        wanted = text.strip().lower()
        if not wanted:
            return None
        labels: dict[str, ThemeInfo] = {}
        for theme in self.themes(include_archived):
            for label in (theme.slug, *theme.names.values()):
                labels.setdefault(label.lower(), theme)
        if wanted in labels:
            return labels[wanted]
        from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

        best = process.extractOne(wanted, list(labels), scorer=fuzz.WRatio, score_cutoff=FIND_CUTOFF)
        return labels[best[0]] if best is not None else None

    def welcome_room(self) -> ThemeInfo | None:
        return next((t for t in self.themes() if t.welcome), None)

    def is_community_room(self, room_id: str) -> bool:
        """The space or one of its themed rooms (archived ones too: they are still ours)."""
        return room_id == self._space or self.theme_of(room_id) is not None

    # ---- changes (the community plugin) --------------------------------------------------

    def remember(self, session: AsyncSession, slug: str, room_id: str, name_nl: str, name_de: str) -> None:
        """Record a room the bot made (idempotent per slug); the directory shows it once committed."""
        session.add(ThemeRoom(slug=slug, room_id=room_id, name_nl=name_nl, name_de=name_de, archived=False))
        if slug == SPACE_SLUG:
            self._after_commit(session, lambda: self._set_space(room_id))
        else:
            self._after_commit(session, lambda: self._apply(slug, room_id, name_nl, name_de, False, utcnow()))

    async def archive(self, session: AsyncSession, slug: str) -> None:
        row = await session.get(ThemeRoom, slug)
        if row is None:
            return
        row.archived = True
        values = (row.slug, row.room_id, row.name_nl, row.name_de, True, aware(row.created_at))
        self._after_commit(session, lambda: self._apply(*values))

    @staticmethod
    def _after_commit(session: AsyncSession, change: Callable[[], None]) -> None:
        event.listen(session.sync_session, "after_commit", lambda _s: change(), once=True)

    def _set_space(self, room_id: str) -> None:
        if self.configured_space and self.configured_space != room_id:
            log.warning(
                "invites.space names another space than the community plugin's; using the configured one",
                extra={"configured": self.configured_space, "plugin_space": room_id},
            )
            return
        self._space = room_id

    def _apply(self, slug: str, room_id: str, nl: str, de: str, archived: bool, created_at: datetime | None) -> None:
        if slug == SPACE_SLUG:
            self._set_space(room_id)
            return
        theme = self.configured.get(slug)
        en = theme.en.name if theme is not None and theme.en is not None else room_name(nl, de)
        self._rows[slug] = ThemeInfo(
            slug=slug,
            room_id=room_id,
            names={"nl": nl, "de": de, "en": en},
            # A room a moderator made with `room create` has no theme in the file: the defaults.
            translation=theme.translation if theme else "auto",
            suggest=theme.suggest if theme else True,
            welcome=theme.welcome if theme else False,
            archived=archived,
            invite_only=theme.invite_only if theme else False,
            created_at=created_at or utcnow(),
        )
