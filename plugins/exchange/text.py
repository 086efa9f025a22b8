"""From a request's text to what the exchange stores and searches: the `#theme` tags, the
concepts, the resource type, the side of the border, and the search tokens.

Search tokens (the `search` column): every word folded and stemmed with the Dutch, German and
English Snowball stemmers (the taxonomy's), plus one token per concept (with its broader ones)
the text mentions. A query is turned into tokens the same way (its concepts without the broader
ones), so "Schweißer" finds "lasser" through `welding` and "Metall" finds both through
`metalworking`. The same column is searched by SQLite FTS5 and PostgreSQL ('simple' config):
one behaviour on both databases, no language configuration in either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import snowballstemmer  # type: ignore[import-untyped]

from diabot.resource_types import RESOURCES

from .taxonomy import LANGS, STEMMERS, fold, taxonomy

SIDES = ("nl", "de")
CONCEPT_PREFIX = "zzc"  # a concept token: zzc + the id without underscores (tokenizers split on "_")
MIN_KEYWORD = 4  # shorter stems are not keywords for matching ("voor", "für" are stop words anyway)
STOP_STEMS = frozenset(
    (
        *("zoek", "zoeken", "bied", "bieden", "aanbied", "voor", "naar", "onze", "wij", "jull", "ander"),
        *("such", "biet", "anbiet", "fur", "unser", "wir", "einen", "eine", "ander", "nach", "oder"),
        *("seek", "offer", "look", "with", "from", "that", "this", "have", "some", "other"),
    )
)
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"(?:^|\s)#([^\s#]+)")


@cache
def _stemmer(lang: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(STEMMERS[lang])


def stems(text: str) -> set[str]:
    """The stemmed words of `text` in all three languages (folded as the taxonomy folds)."""
    out: set[str] = set()
    for word in _WORD.findall(text):
        for lang in LANGS:
            folded = fold(word, lang)
            out.add(str(_stemmer(lang).stemWord(folded)))
            out.add(folded)
    return out


def _keyword(token: str) -> bool:
    return (
        len(token) >= MIN_KEYWORD
        and token not in STOP_STEMS
        and not token.isdigit()
        and not token.startswith(CONCEPT_PREFIX)
    )


def keywords(text: str) -> set[str]:
    """Stems that say something (for matching): long enough and not a stop word."""
    return {s for s in stems(text) if _keyword(s)}


def keywords_of_search(search: str) -> set[str]:
    """The same keywords read back from a stored `search` column (no stemming again)."""
    return {t for t in search.split() if _keyword(t)}


def word_groups(query: str) -> list[list[str]]:
    """Per word of a search query: its stems in the three languages and the tokens of the
    concepts that word names ("Schweißer" -> schweiss, ..., zzcwelding). A hit must match
    every group (AND of ORs); the caller falls back to any of them when that finds nothing."""
    tax = taxonomy()
    groups = []
    for word in _WORD.findall(query):
        tokens = stems(word) | {concept_token(c) for c in tax.concepts_in(word, None)}
        tokens = {t for t in tokens if t not in STOP_STEMS}
        if tokens:
            groups.append(sorted(tokens))
    return groups


def concept_token(concept_id: str) -> str:
    return CONCEPT_PREFIX + concept_id.replace("_", "")


def search_text(text: str, concepts: Iterable[str]) -> str:
    """The `search` column: stems of the text and tokens of its concepts with the broader ones."""
    tokens = stems(text) | {concept_token(c) for c in taxonomy().expand(concepts)}
    return " ".join(sorted(tokens))


def query_tokens(text: str, concepts: Iterable[str]) -> list[str]:
    """A query's tokens: its stems and its own concepts (not their broader ones: "lassen" should
    not find every metal request)."""
    return sorted(stems(text) | {concept_token(c) for c in concepts})


def split_tags(text: str) -> tuple[str, list[str]]:
    """'Schweißer gesucht #metaal' -> ('Schweißer gesucht', ['metaal'])."""
    tags = _TAG.findall(text)
    return _TAG.sub(" ", text).strip(), tags


def concepts_of(text: str, lang: str | None) -> set[str]:
    """Concepts in `text`; with the language known only that language's words (homographs)."""
    return taxonomy().concepts_in(text, lang if lang in LANGS else None)


def resource_of(concepts: Iterable[str]) -> str | None:
    """The resource type the concepts name, if exactly one."""
    found = [r for r in taxonomy().resources_of(concepts) if r in RESOURCES]
    return found[0] if len(found) == 1 else None


def side_of_user(user_id: str) -> str | None:
    """nl/de from the homeserver's top-level domain (@anna:example.nl); else unknown."""
    server = user_id.partition(":")[2].split(":")[0].lower()
    for side in SIDES:
        if server.endswith("." + side):
            return side
    return None
