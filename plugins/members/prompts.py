"""What the onboarding dialogue says: the greeting and the question of each
step, in the member's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diabot.formatting import escape_md

from . import answers as a
from .models import Onboarding
from .profiles import FREE_TEXT, ProfileService

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .plugin import MembersConfig


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

    def greeting(self, lang: str) -> str:
        return self.config.welcome.get(lang) or self.t(lang, "members.greeting")

    def consent(self, lang: str) -> str:
        return self.t(lang, "members.q.consent", version=self.config.privacy_version)

    def question(self, step: str, lang: str) -> str:
        skip = self.t(lang, "members.skip_hint")
        if step == "language":
            return self.t(lang, "members.q.language")
        if step == "consent":
            return f"{self.t(lang, 'members.about')}\n\n{self.consent(lang)}"
        if step in FREE_TEXT:
            return f"{self.t(lang, f'members.q.{step}')} {skip}"
        if step == "side":
            sides = f"1. {self.t(lang, 'members.side.nl')}\n2. {self.t(lang, 'members.side.de')}"
            return f"{self.t(lang, 'members.q.side')}\n{sides}\n\n{skip}"
        if step == "themes":
            themes = self.profiles.suggested_themes()
            listing = "\n".join(f"{i}. {escape_md(theme.name(lang))}" for i, theme in enumerate(themes, 1))
            return f"{self.t(lang, 'members.q.themes')}\n{listing}\n\n{self.t(lang, 'members.multi_hint')} {skip}"
        if step in ("offers", "seeks"):
            listing = "\n".join(f"{i}. {self.t(lang, f'members.resource.{k}')}" for i, k in enumerate(a.RESOURCES, 1))
            return f"{self.t(lang, f'members.q.{step}')}\n{listing}\n\n{self.t(lang, 'members.multi_hint')} {skip}"
        return self.t(lang, f"members.q.{step}")  # listed, intro: yes/no
