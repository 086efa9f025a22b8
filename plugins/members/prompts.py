"""What the onboarding dialogue says: the greeting, the question of each
step in the member's language, and the short line that asks again when an
answer was not understood (never the whole question again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diabot.formatting import escape_md
from diabot.resource_types import RESOURCES

from . import answers as a
from .models import Onboarding
from .profiles import FREE_TEXT, LANGS, ProfileService

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .plugin import MembersConfig

YES_NO_STEPS = ("consent", "listed", "intro")
LIST_STEPS = ("themes", "offers", "seeks")


def lang_of(state: Onboarding) -> str:
    """The language chosen in the dialogue, else the one guessed from the server name."""
    lang: str = state.answers.get("lang") or state.answers.get("guess") or "en"
    return lang


class Prompts:
    def __init__(self, services: Services, config: MembersConfig, profiles: ProfileService):
        self.services = services
        self.config = config
        self.profiles = profiles

    def t(self, lang: str, key: str, **params: object) -> str:
        return self.services.i18n.t(lang, key, **params)

    def greeting(self, first: str | None) -> str:
        """In all three languages (nobody has chosen yet), the likely one first."""
        order = [first, *(lang for lang in LANGS if lang != first)] if first in LANGS else list(LANGS)
        return "👋 " + "\n".join(self.config.welcome.get(lang) or self.t(lang, "members.greeting") for lang in order)

    def consent(self, lang: str) -> str:
        return self.t(lang, "members.q.consent", version=self.config.privacy_version)

    def question(self, step: str, lang: str) -> str:
        skip = self.t(lang, "members.skip_hint")
        if step == "language":
            return self.t(lang, "members.q.language")
        if step == "consent":
            return self.consent(lang)
        if step in FREE_TEXT:
            return f"{self.t(lang, f'members.q.{step}')} {skip}"
        if step == "side":
            return f"{self.t(lang, 'members.q.side')}\n{self._sides(lang)}\n\n{skip}"
        if step == "themes":
            themes = self.profiles.suggested_themes()
            listing = "\n".join(f"{i}. {escape_md(theme.name(lang))}" for i, theme in enumerate(themes, 1))
            return f"{self.t(lang, 'members.q.themes')}\n{listing}\n\n{self.t(lang, 'members.multi_hint')} {skip}"
        if step in ("offers", "seeks"):
            listing = "\n".join(f"{i}. {self.t(lang, f'members.resource.{k}')}" for i, k in enumerate(RESOURCES, 1))
            hints = f"{self.t(lang, 'members.multi_hint')} {skip}\n{self.t(lang, 'members.offers_hint')}"
            return f"{self.t(lang, f'members.q.{step}')}\n{listing}\n\n{hints}"
        return self.t(lang, f"members.q.{step}")  # listed, intro: yes/no

    def ask_again(self, step: str, lang: str) -> str:
        """One short line; the question is still on the screen right above."""
        if step == "language":
            return self.t(lang, "members.reask.language")
        if step in YES_NO_STEPS:
            return self.t(lang, "members.reask.yes_no")
        if step == "side":
            return f"{self.t(lang, 'members.reask.number')}\n{self._sides(lang)}"
        if step in LIST_STEPS:
            return self.t(lang, "members.reask.numbers")
        # Free text: the question is one short line, so it comes along.
        return f"{self.t(lang, 'members.reask')} {self.question(step, lang)}"

    def _sides(self, lang: str) -> str:
        return "\n".join(f"{i}. {self.t(lang, f'members.side.{side}')}" for i, side in enumerate(a.SIDES, 1))

    def resources_explained(self, lang: str) -> str:
        """The long explanation of each kind of offer (!offers)."""
        lines = [f"**{self.t(lang, 'members.offers.title')}**", ""]
        lines += [
            f"{i}. **{self.t(lang, f'members.resource.{k}')}**: {self.t(lang, f'members.resource_long.{k}')}"
            for i, k in enumerate(RESOURCES, 1)
        ]
        return "\n".join(lines)
