"""Cut a chat message into what the model may translate and what it must not.

Protected (copied verbatim, never sent to the model): code, URLs, e-mail
addresses, Matrix IDs and @mentions, #hashtags and room aliases, emoji,
dates, times, numbers, markdown markers (list bullets, quote marks, bold and
italic markers) and glossary terms (replaced by the target language's term).
Translatable runs are split into sentences with pysbd, which knows nl, de and
en and needs no download (argostranslate's own splitter fetches a model on
first use and fails offline).

All of this is CPU work: the Translator runs it in its worker thread, never
on the event loop, and only on the first `max_chars` of a message (`cut`).
Every step is linear in the length of the text (bench/segment_worst.py):

- A pattern that can fail after a long scan is bounded (e-mail, Matrix IDs,
  URLs) or starts only at a character its run cannot contain (`@`, `#`, `!`,
  a backtick), so no position is scanned from more than a bounded number of
  starting points. The runs that are unbounded always succeed and consume
  what they scanned (numbers, hashtags, emoji).
- pysbd is quadratic in its input (8 KB of plain words: 175 ms, 4 KB: 49 ms):
  it gets chunks of at most SBD_CHUNK characters, cut after a sentence end
  or a space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PATTERNS = [
    r"```.*?```",  # fenced code (fails at most at the last fence of a line)
    r"`[^`\n]+`",  # inline code
    r"(?:https?|ftp)://[^\s<>\"]{1,2048}[^\s<>\".,;:!?)\]]",  # URLs
    r"www\.[^\s<>\"]{1,2048}[^\s<>\".,;:!?)\]]",
    r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}",  # e-mail (RFC 5321 lengths)
    r"@[\w.=/+-]{1,255}:[\w.-]{1,255}(?::\d{1,5})?",  # Matrix ID
    r"@\w[\w.-]{0,254}",  # @mention
    r"[#!][\w.=/+-]{1,255}:[\w.-]{1,255}",  # room alias / id
    r"#\w+",  # hashtag
    r"\b\d{4}-\d{2}-\d{2}\b",  # ISO date
    r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b",  # 24.12. / 24-12-2026
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",  # time
    r"(?:[€$£]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|€))?",  # numbers, amounts
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+",  # emoji
    r"\*\*|__|~~",  # bold / strike markers
    r"(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)",  # italic markers
]
_PROTECTED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.S)
# Line prefixes that carry structure: bullets, numbered items, quotes, headings.
_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d{1,9}[.)]\s+|>+\s?|#{1,6}\s+)*)")
_WORDLESS = re.compile(r"[\W\d_]*")
# pysbd's input bound (its cost grows with the square of the input).
SBD_CHUNK = 500
_SENTENCE_ENDS = (". ", "! ", "? ", "… ")
# pysbd leaves a text without any of these as one sentence (Standard.Punctuations).
_SBD_PUNCTUATION = ("。", "．", ".", "！", "!", "?", "？")


@dataclass(frozen=True)
class Piece:
    text: str
    translate: bool


class Glossary:
    """Bilingual terms: each entry maps language -> term. Matching is
    case-sensitive for acronyms (BV, KvK) and whole-word."""

    def __init__(self, entries: list[dict[str, str]]):
        self.entries = entries
        self._entry: dict[str, dict[str, str]] = {}
        for entry in entries:
            for term in entry.values():
                self._entry.setdefault(term, entry)
        terms = sorted(self._entry, key=len, reverse=True)
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, terms)) + r")(?!\w)") if terms else None

    def target(self, term: str, tgt: str) -> str:
        entry = self._entry.get(term)
        return term if entry is None else entry.get(tgt, term)


def cut(text: str, limit: int) -> tuple[str, str]:
    """The first at most `limit` characters to translate, and the rest: cut
    at a paragraph, line, sentence or word boundary in the second half of
    the window, else hard. `head + rest == text`."""
    if len(text) <= limit:
        return text, ""
    floor = limit // 2
    for sep in ("\n\n", "\n"):
        i = text.rfind(sep, floor, limit)
        if i >= 0:
            return text[:i], text[i:]
    i = max(text.rfind(end, floor, limit + 1) for end in _SENTENCE_ENDS)
    if i >= 0:
        return text[: i + 1], text[i + 1 :]
    i = text.rfind(" ", floor, limit)
    return (text[:i], text[i:]) if i >= 0 else (text[:limit], text[limit:])


def split_pieces(text: str, glossary: Glossary | None, tgt: str) -> list[Piece]:
    """The message as pieces in order; joining all texts gives the input back
    (except glossary terms, which are already in the target language)."""
    pieces: list[Piece] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append(Piece("\n", False))
        prefix = match.group(1) if (match := _LINE_PREFIX.match(line)) else ""  # it matches even ""
        if prefix:
            pieces.append(Piece(prefix, False))
        _split_line(line[len(prefix) :], glossary, tgt, pieces)
    return pieces


def _split_line(line: str, glossary: Glossary | None, tgt: str, out: list[Piece]) -> None:
    spans: list[tuple[int, int, str]] = []
    if glossary and glossary.pattern:
        spans += [(m.start(), m.end(), glossary.target(m.group(), tgt)) for m in glossary.pattern.finditer(line)]
    # Glossary spans win over overlapping protected ones. Both come in order
    # and do not overlap among themselves: one sweep.
    terms, k = len(spans), 0
    for m in _PROTECTED.finditer(line):
        while k < terms and spans[k][1] <= m.start():
            k += 1
        if k == terms or spans[k][0] >= m.end():
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
    if not core or _WORDLESS.fullmatch(core):
        out.append(Piece(run, False))
        return
    lead = run[: len(run) - len(run.lstrip())]
    trail = run[len(run.rstrip()) :]
    if lead:
        out.append(Piece(lead, False))
    out.append(Piece(core, True))
    if trail:
        out.append(Piece(trail, False))


@lru_cache(maxsize=8)
def _segmenter(lang: str):
    import pysbd

    return pysbd.Segmenter(language=lang if lang in ("nl", "de", "en") else "en", clean=False)


def chunks(text: str, limit: int = SBD_CHUNK) -> list[str]:
    """`text` in pieces of at most `limit` characters, each cut after a
    sentence end or a space in its second half if there is one (so the
    whitespace stays at the end of a piece), else hard."""
    out, start, n = [], 0, len(text)
    while n - start > limit:
        end, floor = start + limit, start + limit // 2
        i = max(text.rfind(e, floor, end) for e in _SENTENCE_ENDS)
        if i >= 0:
            stop = i + 2
        else:
            i = text.rfind(" ", floor, end)
            stop = i + 1 if i >= 0 else end
        out.append(text[start:stop])
        start = stop
    out.append(text[start:])
    return out


def sentences(text: str, lang: str) -> list[str]:
    """Sentences of one translatable run, whitespace kept at the joins."""
    if not any(p in text for p in _SBD_PUNCTUATION):
        return [text]  # what pysbd does too, without its per-call cost
    segmenter = _segmenter(lang)
    parts = [s for chunk in chunks(text) for s in segmenter.segment(chunk) if s]
    return parts or [text]
