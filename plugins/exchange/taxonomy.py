"""The bilingual business taxonomy (data/taxonomy.yaml): which shared concepts a free text
mentions, so that a Dutch offer and a German seek about the same thing meet without a
translation model ("Wij zoeken een lasser voor RVS" and "Wir suchen einen Schweißer für
Edelstahl" both mention `welding` and `stainless_steel`).

Matching, per language (nl, de, en):
- text and taxonomy words are folded the same way: case-insensitive, accents dropped, German
  ß = ss and ä/ö/ü = ae/oe/ue (the German stemmer then joins ae/ä/a);
- words are reduced with that language's Snowball stemmer, so plurals and inflections meet;
- multi-word entries match as stemmed phrases, longest first; a word used by a phrase is not
  matched again on its own ("trade fair" is not also `trade`);
- a word whose stem is short (< MIN_STEM letters) matches only exactly as listed ("lassen", not
  "las"), as do entries written "=word"; such an exact form wins over another concept's word
  with the same stem (en "=hospitality" vs "hospital"); ALL-CAPS abbreviations (up to 5
  letters) match case-sensitively ("IT" but not "it");
- in Dutch and German, a word that is not itself listed may contain a listed stem of at least
  MIN_COMPOUND letters at its start or end ("Schweißtechnik" → welding, "Luftwärmepumpe" →
  heat_pump), with at least MIN_REST letters left over.

Cross-language homographs (nl "lassen" = to weld, de "lassen" = to let): with `lang` given, only
that language's words count, so "Wir lassen uns beraten" is not welding and "Wij lassen RVS"
is. With `lang=None` all three languages are tried, and the forms listed under `homographs:` in
the YAML are then ignored (a Dutch "lassen" in a text of unknown language is not trusted).
Callers should pass the language of the request whenever it is known.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
import yaml

LANGS = ("nl", "de", "en")
KINDS = ("theme", "resource", "sector", "term")
# The order in which explanations name concepts: the most specific kinds first.
KIND_ORDER = {"sector": 0, "term": 1, "resource": 2, "theme": 3}
STEMMERS = {"nl": "dutch", "de": "german", "en": "english"}
MIN_STEM = 4  # shorter stems match only as the exact forms listed
MIN_COMPOUND = 5  # stems at least this long also match inside nl/de compound words
MIN_REST = 3  # ... when at least this many letters of the compound remain
COMPOUND_LANGS = frozenset(("nl", "de"))
CASE_SENSITIVE_MAX = 5  # ALL-CAPS abbreviations up to this length are matched case-sensitively

_WORD = re.compile(r"[^\W_]+")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
_CONCEPT_KEYS = frozenset(("id", "kind", "broader", "theme", *LANGS))
_GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_CACHE_MAX = 50_000  # per language: folded words already stemmed and looked up


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the concept and the problem."""


@dataclass(frozen=True)
class Concept:
    id: str
    kind: str
    words: Mapping[str, tuple[str, ...]]  # lang -> words as written (the first is the label)
    broader: str | None = None
    theme: str | None = None


def fold(word: str, lang: str) -> str:
    """Lower case without accents; German umlauts as ae/oe/ue, ß as ss (casefold)."""
    word = unicodedata.normalize("NFKC", word).casefold()
    if lang == "de":
        word = word.translate(_GERMAN_FOLD)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_abbreviation(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return 2 <= len(word) <= CASE_SENSITIVE_MAX and bool(letters) and all(c.isupper() for c in letters)


@dataclass
class _Index:
    """One language's compiled words."""

    lang: str
    stemmer: Any
    stems: dict[str, str] = field(default_factory=dict)  # stem -> concept
    exact: dict[str, str] = field(default_factory=dict)  # folded form -> concept
    cased: dict[str, str] = field(default_factory=dict)  # abbreviation as written -> concept
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)  # first stem -> longest first
    homographs: frozenset[str] = frozenset()  # folded forms ignored when the language is a guess
    _cache: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def stem(self, folded: str) -> str:
        return str(self.stemmer.stemWord(folded))

    def lookup(self, folded: str) -> tuple[str, tuple[str, ...]]:
        """(stem, concepts) of one folded word on its own: exact, stemmed, then compound parts."""
        hit = self._cache.get(folded)
        if hit is not None:
            return hit
        stem = self.stem(folded)
        concept = self.exact.get(folded) or self.stems.get(stem)  # a listed form beats a shared stem
        if concept:
            found: tuple[str, ...] = (concept,)
        elif self.lang in COMPOUND_LANGS:
            found = tuple(dict.fromkeys(self._compound(stem)))
        else:
            found = ()
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        hit = self._cache[folded] = (stem, found)
        return hit

    def _compound(self, stem: str) -> list[str]:
        """Listed stems at the start or end of a compound: the longest of each."""
        found = []
        longest = len(stem) - MIN_REST
        for size in range(longest, MIN_COMPOUND - 1, -1):
            concept = self.stems.get(stem[:size])
            if concept:
                found.append(concept)
                break
        for size in range(longest, MIN_COMPOUND - 1, -1):
            concept = self.stems.get(stem[-size:])
            if concept:
                found.append(concept)
                break
        return found

    def match(self, words: list[tuple[str, str]], guessing: bool) -> set[str]:
        """Concepts among `words` ((as written, folded) pairs); `guessing`: the language is a guess."""
        looked = [self.lookup(folded) for _, folded in words]
        stems = [stem for stem, _ in looked]
        used = [False] * len(words)
        found: set[str] = set()
        for i, stem in enumerate(stems):
            for phrase, concept in self.phrases.get(stem, ()):
                end = i + len(phrase)
                if tuple(stems[i:end]) == phrase and not any(used[i:end]):
                    found.add(concept)
                    used[i:end] = [True] * len(phrase)
                    break
        for i, (written, folded) in enumerate(words):
            if used[i]:
                continue
            cased = self.cased.get(written)
            if cased:
                found.add(cased)
            if guessing and folded in self.homographs:
                continue
            found.update(looked[i][1])
        return found


class Taxonomy:
    """The validated concepts and, per language, their compiled words."""

    def __init__(self, concepts: list[Concept], homographs: Mapping[str, Iterable[str]]) -> None:
        self.concepts: dict[str, Concept] = {c.id: c for c in concepts}
        self.theme_slugs = frozenset(c.theme for c in concepts if c.kind == "theme" and c.theme)
        self._indexes = {lang: self._compile(lang, homographs.get(lang, ())) for lang in LANGS}
        self._ancestors = {cid: self._chain(cid) for cid in self.concepts}

    # ---- compiling ---------------------------------------------------------------------------
    def _compile(self, lang: str, homographs: Iterable[str]) -> _Index:
        index = _Index(lang, snowballstemmer.stemmer(STEMMERS[lang]))
        owners: dict[tuple[str, object], tuple[str, str]] = {}  # key -> (concept, word as written)

        def claim(kind: str, key: object, concept: str, word: str) -> bool:
            owner = owners.setdefault((kind, key), (concept, word))
            if owner[0] != concept:
                raise TaxonomyError(
                    f"{lang} word {word!r} of {concept!r} matches the same as {owner[1]!r} of {owner[0]!r}: "
                    "a word must lead to one concept (drop one, or write a longer form)"
                )
            return owner == (concept, word)

        phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for concept in self.concepts.values():
            for word in concept.words[lang]:
                exact = word.startswith("=")
                text = word[1:] if exact else word
                parts = _WORD.findall(text)
                if not parts:
                    raise TaxonomyError(f"{concept.id!r}: {lang} word {word!r} has no letters or digits")
                if len(parts) > 1:
                    if exact:
                        raise TaxonomyError(f"{concept.id!r}: {lang} phrase {word!r} cannot be '=' exact")
                    key = tuple(index.stem(fold(p, lang)) for p in parts)
                    if claim("phrase", key, concept.id, word):
                        phrases.setdefault(key[0], []).append((key, concept.id))
                    continue
                folded = fold(text, lang)
                if _is_abbreviation(text):
                    claim("cased", text, concept.id, word)
                    index.cased[text] = concept.id
                elif exact or len(index.stem(folded)) < MIN_STEM:
                    claim("exact", folded, concept.id, word)
                    index.exact[folded] = concept.id
                else:
                    stem = index.stem(folded)
                    claim("stem", stem, concept.id, word)
                    index.stems[stem] = concept.id
        index.phrases = {first: sorted(found, key=lambda p: -len(p[0])) for first, found in phrases.items()}
        listed = {fold(w.lstrip("="), lang) for c in self.concepts.values() for w in c.words[lang]}
        forms = frozenset(fold(h, lang) for h in homographs)
        unknown = sorted(forms - listed)
        if unknown:
            raise TaxonomyError(f"homographs.{lang}: {', '.join(unknown)} are not {lang} words of any concept")
        index.homographs = forms
        return index

    def _chain(self, cid: str) -> tuple[str, ...]:
        chain: list[str] = []
        parent = self.concepts[cid].broader
        while parent is not None:
            if parent == cid or parent in chain:
                raise TaxonomyError(f"{cid!r}: 'broader' goes round in a circle ({' → '.join((cid, *chain, parent))})")
            chain.append(parent)
            parent = self.concepts[parent].broader
        return tuple(chain)

    # ---- matching ----------------------------------------------------------------------------
    def concepts_in(self, text: str, lang: str | None = None) -> set[str]:
        """Ids of the concepts `text` mentions; `lang` (nl/de/en) or None to try all three."""
        if lang is not None and lang not in LANGS:
            raise ValueError(f"unknown language {lang!r} (expected one of {', '.join(LANGS)} or None)")
        written = _WORD.findall(unicodedata.normalize("NFKC", text))
        found: set[str] = set()
        for code in LANGS if lang is None else (lang,):
            words = [(w, fold(w, code)) for w in written]
            found |= self._indexes[code].match(words, guessing=lang is None)
        return found

    # ---- reading -----------------------------------------------------------------------------
    def label(self, concept_id: str, lang: str) -> str:
        """The concept's first word in `lang` (KeyError for an unknown id or language)."""
        return self.concepts[concept_id].words[lang][0].lstrip("=")

    def kind(self, concept_id: str) -> str:
        return self.concepts[concept_id].kind

    def ancestors(self, concept_id: str) -> tuple[str, ...]:
        """The `broader` chain, nearest first."""
        return self._ancestors[concept_id]

    def expand(self, concept_ids: Iterable[str]) -> set[str]:
        """The concepts with all their broader ones."""
        out = set()
        for cid in concept_ids:
            out.add(cid)
            out.update(self._ancestors[cid])
        return out

    def themes_of(self, concept_ids: Iterable[str]) -> set[str]:
        """Theme slugs of the concepts and of their broader ones."""
        return {slug for cid in self.expand(concept_ids) if (slug := self.concepts[cid].theme)}

    def resources_of(self, concept_ids: Iterable[str]) -> set[str]:
        """Resource types (the ten of the DIA documents) the concepts are, or fall under."""
        return {cid for cid in self.expand(concept_ids) if self.concepts[cid].kind == "resource"}

    def explain(self, shared: Iterable[str], lang: str, limit: int | None = 5) -> str:
        """'lassen, RVS, leerling': labels of the shared concepts in the reader's language, the
        most specific first; a concept is left out when a narrower one is named."""
        ids = set(shared)
        covered = {a for cid in ids for a in self._ancestors[cid]}
        named = sorted(
            (cid for cid in ids if cid not in covered),
            key=lambda cid: (KIND_ORDER[self.concepts[cid].kind], self.label(cid, lang).casefold()),
        )
        if limit is not None:
            named = named[:limit]
        return ", ".join(self.label(cid, lang) for cid in named)


# ---- loading and validation ---------------------------------------------------------------------
def _words(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise TaxonomyError(f"{where}: needs a non-empty list of words")
    for word in raw:
        if not isinstance(word, str) or not word.strip():
            raise TaxonomyError(f"{where}: {word!r} is not a word")
    return tuple(w.strip() for w in raw)


def _concept(raw: object, number: int) -> Concept:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"concept #{number}: not a mapping")
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise TaxonomyError(f"concept #{number}: id {cid!r} is not English snake_case")
    unknown = sorted(set(raw) - _CONCEPT_KEYS)
    if unknown:
        raise TaxonomyError(f"{cid!r}: unknown key(s) {', '.join(map(str, unknown))}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise TaxonomyError(f"{cid!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
    missing = [lang for lang in LANGS if lang not in raw]
    if missing:
        raise TaxonomyError(f"{cid!r}: missing {', '.join(missing)} words (every concept needs nl, de and en)")
    words = {lang: _words(raw[lang], f"{cid!r}.{lang}") for lang in LANGS}
    broader, theme = raw.get("broader"), raw.get("theme")
    if broader is not None and not isinstance(broader, str):
        raise TaxonomyError(f"{cid!r}: broader {broader!r} is not a concept id")
    if theme is not None and (not isinstance(theme, str) or not _SLUG.match(theme)):
        raise TaxonomyError(f"{cid!r}: theme {theme!r} is not a theme slug")
    if kind == "theme" and theme is None:
        raise TaxonomyError(f"{cid!r}: a theme concept needs `theme: <slug>`")
    return Concept(cid, kind, words, broader, theme)


def parse(text: str, source: str = "taxonomy.yaml") -> Taxonomy:
    """Validate and compile a taxonomy document; TaxonomyError says what is wrong and where."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("concepts"), list):
        raise TaxonomyError(f"{source}: expected a mapping with a `concepts:` list")
    try:
        concepts = [_concept(raw, n) for n, raw in enumerate(doc["concepts"], 1)]
        seen: set[str] = set()
        for c in concepts:
            if c.id in seen:
                raise TaxonomyError(f"{c.id!r}: the id is used twice")
            seen.add(c.id)
        slugs = {c.theme for c in concepts if c.kind == "theme"}
        for c in concepts:
            if c.broader is not None and c.broader not in seen:
                raise TaxonomyError(f"{c.id!r}: broader {c.broader!r} is not a concept id")
            if c.theme is not None and c.theme not in slugs:
                known = ", ".join(sorted(s for s in slugs if s))
                raise TaxonomyError(f"{c.id!r}: theme {c.theme!r} is not a theme of the taxonomy ({known})")
        homographs = doc.get("homographs") or {}
        if not isinstance(homographs, dict) or set(homographs) - set(LANGS):
            raise TaxonomyError("`homographs:` must map nl/de/en to lists of words")
        lists = {lang: _words(forms, f"homographs.{lang}") for lang, forms in homographs.items()}
        return Taxonomy(concepts, lists)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{source}: {exc}") from None


@cache
def taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded and compiled once."""
    text = files("plugins.exchange").joinpath("data", "taxonomy.yaml").read_text(encoding="utf-8")
    return parse(text)


def concepts_in(text: str, lang: str | None = None) -> set[str]:
    """Ids of the concepts a free text mentions (see the module docstring); lang nl/de/en or None."""
    return taxonomy().concepts_in(text, lang)


def label(concept_id: str, lang: str) -> str:
    """The concept's label (its first word) in `lang`."""
    return taxonomy().label(concept_id, lang)


def explain(shared: set[str], lang: str, limit: int | None = 5) -> str:
    """Shared concepts as the reader reads them: 'lassen, RVS, leerling'."""
    return taxonomy().explain(shared, lang, limit)


def expand(concept_ids: Iterable[str]) -> set[str]:
    """The concepts with all their broader ones."""
    return taxonomy().expand(concept_ids)
