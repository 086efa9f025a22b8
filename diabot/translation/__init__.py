"""Offline translation: argostranslate packages, CTranslate2, pysbd, language id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .engine import MODELS_CHECK_S, ArgosEngine, EngineSettings, NoModel, missing_pairs
from .segment import Glossary
from .translator import Translator

if TYPE_CHECKING:
    from .langid import LanguageIdentifier

__all__ = [
    "MODELS_CHECK_S",
    "ArgosEngine",
    "Glossary",
    "NoModel",
    "Translator",
    "build_translator",
    "load_glossary",
    "missing_pairs",
]

LANGUAGES = ("nl", "de", "en")


def load_glossary(path: Path | None) -> Glossary:
    if path is None or not path.exists():
        return Glossary([])
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Glossary([{k: str(v) for k, v in entry.items()} for entry in data.get("terms", [])])


class _LazyIdentifier:
    """Load the language-id model on first use, in the translation thread."""

    def __init__(self, backend: str):
        self.backend = backend
        self._impl: LanguageIdentifier | None = None

    def detect(self, text: str) -> str | None:
        if self._impl is None:
            from .langid import FastLangdetect, Py3Langid

            self._impl = (Py3Langid if self.backend == "py3langid" else FastLangdetect)(LANGUAGES)
        return self._impl.detect(text)


def build_translator(settings, on_fallback: Callable[[int], object] | None = None) -> Translator:
    """`settings`: diabot.config.TranslationSettings; `on_fallback(n)`: n
    sentences were translated piecewise (for /metrics)."""
    engine = ArgosEngine(
        EngineSettings(
            packages_dir=settings.packages_dir,
            compute_type=settings.compute_type,
            inter_threads=settings.inter_threads,
            intra_threads=settings.intra_threads,
            beam_size=settings.beam_size,
        )
    )
    return Translator(
        engine,
        _LazyIdentifier(settings.language_id),
        load_glossary(settings.glossary),
        cache_size=settings.cache_size,
        max_chars=settings.max_chars,
        on_fallback=on_fallback,
    )
