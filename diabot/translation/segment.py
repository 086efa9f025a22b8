"""Cut a chat message into what the model may translate and what it must not.

Protected (copied verbatim, never sent to the model): code, URLs, e-mail
addresses, Matrix IDs and @mentions, #hashtags and room aliases, emoji,
dates, times, numbers, markdown markers (list bullets, quote marks, bold and
italic markers) and glossary terms (replaced by the target language's term).
Translatable runs are split into sentences with pysbd, which knows nl, de and
en and needs no download (argostranslate's own splitter fetches a model on
first use and fails offline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PATTERNS = [
    r"```.*?```",                                   # fenced code
    r"`[^`\n]+`",                                   # inline code
    r"(?:https?|ftp)://[^\s<>\"]+[^\s<>\".,;:!?)\]]",  # URLs
    r"www\.[^\s<>\"]+[^\s<>\".,;:!?)\]]",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",                # e-mail
    r"@[\w.=/+-]+:[\w.-]+(?::\d+)?",                # Matrix ID
    r"@\w[\w.-]*",                                  # @mention
    r"[#!][\w.=/+-]+:[\w.-]+",                      # room alias / id
    r"#\w+",                                        # hashtag
    r"\b\d{4}-\d{2}-\d{2}\b",                       # ISO date
    r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b",    # 24.12. / 24-12-2026
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",                # time
    r"(?:[€$£]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|€))?",   # numbers, amounts
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+",  # emoji
    r"\*\*|__|~~",                                  # bold / strike markers
    r"(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)",         # italic markers
]
_PROTECTED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.S)
# Line prefixes that carry structure: bullets, numbered items, quotes, headings.
_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+|>+\s?|#{1,6}\s+)*)")
_WORDLESS = re.compile(r"^[\W\d_]*$")


@dataclass(frozen=True)
class Piece:
    text: str
    translate: bool


class Glossary:
    """Bilingual terms: each entry maps language -> term. Matching is
    case-sensitive for acronyms (BV, KvK) and whole-word."""

    def __init__(self, entries: list[dict[str, str]]):
        self.entries = entries
        terms = sorted({t for e in entries for t in e.values()}, key=len, reverse=True)
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, terms)) + r")(?!\w)") if terms else None

    def target(self, term: str, tgt: str) -> str:
        for entry in self.entries:
            if term in entry.values():
                return entry.get(tgt, term)
        return term


def split_pieces(text: str, glossary: Glossary | None, tgt: str) -> list[Piece]:
    """The message as pieces in order; joining all texts gives the input back
    (except glossary terms, which are already in the target language)."""
    pieces: list[Piece] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append(Piece("\n", False))
        prefix = _LINE_PREFIX.match(line).group(1)
        if prefix:
            pieces.append(Piece(prefix, False))
        _split_line(line[len(prefix):], glossary, tgt, pieces)
    return pieces


def _split_line(line: str, glossary: Glossary | None, tgt: str, out: list[Piece]) -> None:
    spans: list[tuple[int, int, str]] = []
    if glossary and glossary.pattern:
        spans += [(m.start(), m.end(), glossary.target(m.group(), tgt)) for m in glossary.pattern.finditer(line)]
    taken = [(s, e) for s, e, _ in spans]
    for m in _PROTECTED.finditer(line):
        if not any(s < m.end() and m.start() < e for s, e in taken):
            spans.append((m.start(), m.end(), m.group()))
    pos = 0
    for start, end, replacement in sorted(spans):
        if start > pos:
            _add_run(line[pos:start], out)
        out.append(Piece(replacement, False))
        pos = end
    if pos < len(line):
        _add_run(line[pos:], out)


def _add_run(run: str, out: list[Piece]) -> None:
    """Keep surrounding whitespace and wordless runs out of the model."""
    core = run.strip()
    if not core or _WORDLESS.match(core):
        out.append(Piece(run, False))
        return
    lead = run[: len(run) - len(run.lstrip())]
    trail = run[len(run.rstrip()):]
    if lead:
        out.append(Piece(lead, False))
    out.append(Piece(core, True))
    if trail:
        out.append(Piece(trail, False))


@lru_cache(maxsize=8)
def _segmenter(lang: str):
    import pysbd

    return pysbd.Segmenter(language=lang if lang in ("nl", "de", "en") else "en", clean=False)


def sentences(text: str, lang: str) -> list[str]:
    """Sentences of one translatable run, whitespace kept at the joins."""
    parts = [s for s in _segmenter(lang).segment(text) if s]
    return parts or [text]
