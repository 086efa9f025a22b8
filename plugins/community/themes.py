"""config/themes.yaml: the themed rooms of the space, in Dutch and German."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)  # theme_rooms.name_nl/_de
    topic: str = ""


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    nl: _Text
    de: _Text
    translation: Literal["auto", "reactions", "off"] = "auto"
    suggest: bool = True

    def name(self) -> str:
        return room_name(self.nl.name, self.de.name)

    def topic(self) -> str:
        return room_topic(self.nl.topic, self.de.topic)


def room_name(nl: str, de: str) -> str:
    return nl if nl == de else f"{nl} / {de}"


def room_topic(nl: str, de: str) -> str:
    return "\n".join(t for t in (f"🇳🇱 {nl}" if nl else "", f"🇩🇪 {de}" if de else "") if t)


def load_themes(path: Path) -> list[Theme]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Theme.model_validate(t) for t in data.get("themes", [])]
