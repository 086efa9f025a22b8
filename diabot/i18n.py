"""Message catalogs for nl, de and en.

Catalogs are flat YAML maps `key: text` with str.format placeholders, one
file per language in diabot/locales/ and in each plugin's locales/ folder.
There is no process-wide language: every lookup names its language.

Catalog texts are markdown; placeholder values are plain text and are
escaped (diabot.formatting.escape_md) unless they are `Markdown` the bot
built itself. So a company name or a quoted argument can never turn into a
link or a heading in the bot's message.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path

import yaml

from .formatting import Markdown, escape_md

LANGUAGES = ("nl", "de", "en")
log = logging.getLogger(__name__)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _safe(value: object) -> object:
    # Numbers stay numbers (format specs like {n:d}); everything else is text.
    if isinstance(value, (int, float, Markdown)):
        return value
    return escape_md(value)


class Catalog:
    def __init__(self, texts: dict[str, dict[str, str]] | None = None):
        self.texts: dict[str, dict[str, str]] = texts or {lang: {} for lang in LANGUAGES}

    @classmethod
    def from_dirs(cls, dirs: list[Path]) -> Catalog:
        catalog = cls()
        for folder in dirs:
            catalog.load_dir(folder)
        return catalog

    def load_dir(self, folder: Path) -> None:
        for lang in LANGUAGES:
            path = folder / f"{lang}.yaml"
            if not path.exists():
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for key, text in data.items():
                if key in self.texts[lang]:
                    raise ValueError(f"duplicate i18n key {key!r} in {path}")
                self.texts[lang][key] = str(text)

    def has(self, key: str) -> bool:
        return key in self.texts["en"]

    def t(self, lang: str, key: str, **params: object) -> Markdown:
        """The text in markdown, with `params` escaped unless they are
        `Markdown` (opt-out for markup the bot made, e.g. a code span)."""
        text = self.texts.get(lang, {}).get(key)
        if text is None:
            # The catalog test keeps this from happening; degrade, don't crash.
            log.warning("missing i18n key", extra={"key": key, "lang": lang})
            text = self.texts["en"].get(key, key)
        try:
            return Markdown(text.format(**{name: _safe(value) for name, value in params.items()}))
        except (KeyError, IndexError, ValueError):
            log.warning("bad i18n params", extra={"key": key, "lang": lang})
            return Markdown(text)

    def problems(self) -> list[str]:
        """Keys missing in a language, or placeholders that differ."""
        out = []
        all_keys = set().union(*(set(t) for t in self.texts.values()))
        for key in sorted(all_keys):
            present = {lang: self.texts[lang].get(key) for lang in LANGUAGES}
            missing = [lang for lang, text in present.items() if text is None]
            if missing:
                out.append(f"{key}: missing in {', '.join(missing)}")
                continue
            shapes = {lang: placeholders(text) for lang, text in present.items()}
            if len({frozenset(s) for s in shapes.values()}) > 1:
                out.append(f"{key}: placeholders differ {shapes}")
        return out
