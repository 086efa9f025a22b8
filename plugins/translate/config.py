"""The translate plugin's settings (plugins.translate in the YAML)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from diabot.plugin import PluginConfig

Mode = Literal["auto", "reactions", "off"]
Target = Literal["nl", "de"]


def _both_targets() -> list[Target]:
    return ["nl", "de"]


class TranslateConfig(PluginConfig):
    default_mode: Mode = "auto"
    room_modes: dict[str, Mode] = Field(default_factory=dict)  # room id -> mode, before a moderator sets one
    english_targets: list[Target] = Field(default_factory=_both_targets)
    min_chars: int = Field(default=10, ge=0)
    min_words: int = Field(default=2, ge=1)
    # False: translations are replies instead of threads.
    threads: bool = True
    batch: int = Field(default=64, ge=1)

    def worth_translating(self, text: str) -> bool:
        """Not "ok", "👍" or "Danke!": too short to be worth a translation."""
        stripped = text.strip()
        return len(stripped) >= self.min_chars and len(stripped.split()) >= self.min_words
