"""Cut a chat message into sentences for the model, keeping what it must not touch.

A sentence goes to the model whole: a Dutch or German sentence translated in
pieces loses its word order (the verbs sit in different places). Inside it:

- numbers, amounts, dates and times stay as they are (the Argos models carry
  them through);
- URLs, e-mail addresses, Matrix IDs and @mentions, #hashtags and room
  aliases, code, emoji, bold/italic markers and glossary terms become
  numbered placeholders (`X1`, `X2`, ...; see PLACEHOLDER_LETTERS) and are
  put back after translation (a glossary term as the target language's term).
  A sentence whose placeholders do not all come back exactly once is
  translated piecewise instead (`piecewise`: every span cuts the sentence, as
  before), which the Translator counts.
- Emoji at the start or end of a sentence, line prefixes (list bullets,
  numbers, quote marks, headings) and wordless runs never reach the model.

Sentences are found with pysbd, which knows nl, de and en and needs no
download (argostranslate's own splitter fetches a model on first use and
fails offline). It sees the line with every placeholder span masked as one
private-use character, so the dots of a URL or an e-mail address end no
sentence.

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

# What is protected, by kind, in the order the alternatives are tried at a position.
_PATTERNS: list[tuple[str, str]] = [
    ("code", r"```.*?```"),  # fenced code (fails at most at the last fence of a line)
    ("code", r"`[^`\n]+`"),  # inline code
    ("url", r"(?:https?|ftp)://[^\s<>\"]{1,2048}[^\s<>\".,;:!?)\]]"),
    ("url", r"www\.[^\s<>\"]{1,2048}[^\s<>\".,;:!?)\]]"),
    ("email", r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"),  # RFC 5321 lengths
    # Matrix IDs, mentions and room aliases do not end in a dot or dash (that is the sentence's).
    ("mxid", r"@[\w.=/+-]{1,255}:[\w.-]{1,255}(?<![.-])(?::\d{1,5})?"),
    ("mention", r"@\w[\w.-]{0,254}(?<![.-])"),
    ("room", r"[#!][\w.=/+-]{1,255}:[\w.-]{1,255}(?<![.-])"),  # room alias / id
    ("hashtag", r"#\w+"),
    ("number", r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO date
    ("number", r"\b\d{1,2}\.\d{1,2}\.(?!\d)"),  # 24.12. (German: its dot ends no sentence)
    ("number", r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b"),  # 24-12-2026, 24.12.2026
    ("number", r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),  # time
    ("number", r"(?:[€$£]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|€))?"),  # numbers, amounts
    ("emoji", r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+"),
    ("markup", r"\*\*|__|~~"),  # bold / strike markers
    ("markup", r"(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)"),  # italic markers
]
_PROTECTED = re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(_PATTERNS)), re.S)
_KIND = {f"g{i}": kind for i, (kind, _) in enumerate(_PATTERNS)}
# Spans of these kinds stay in the sentence the model sees.
_IN_SENTENCE = frozenset({"number"})
# Line prefixes that carry structure: bullets, numbered items, quotes, headings.
_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d{1,9}[.)]\s+|>+\s?|#{1,6}\s+)*)")
_WORDLESS = re.compile(r"[\W\d_]*")
# pysbd's input bound (its cost grows with the square of the input).
SBD_CHUNK = 500
_SENTENCE_ENDS = (". ", "! ", "? ", "… ")
# pysbd leaves a text without any of these as one sentence (Standard.Punctuations).
_SBD_PUNCTUATION = ("。", "．", ".", "！", "!", "?", "？")

# While sentences are found, each placeholder span of a line is one character
# of Unicode plane 15 (private use: no font draws it, no chat client sends it);
# so is a number with a dot ("24.12.", "1.000"), which is put back as it is.
# A line holds at most 32,768 spans of at least one character with a separator
# between them (adjacent ones are merged), under the plane's 65,534 characters.
_MARK = 0xF0000
_MARKS = 0xFFFE
_MARK_RE = re.compile("[\U000f0000-\U000ffffd]")

# The placeholders: a capital letter and a number, `X1`, `X2`, ... Such a
# token looks to a model like a product or type code ("A4", "T5", "X1"), which
# Transformer models trained on web and parliament text copy through unchanged:
# it is one or two SentencePiece pieces that need no translation, its case
# survives German noun capitalisation, and there is nothing to "translate" in
# it. Tokens of brackets and punctuation (`{0}`, `[[1]]`, `<x1>`, `__PH1__`,
# `###T01###`) are cut into many pieces that models drop, translate or merge
# (LibreTranslate issues #123 and #944). The number tells the slots apart, so
# a model may reorder them as the target language needs. A sentence that
# already has such a token uses the next letter; with all three taken it is
# translated piecewise.
PLACEHOLDER_LETTERS = ("X", "Z", "Q")
_PLACEHOLDER = {letter: re.compile(rf"(?<!\w){letter}(\d+)(?!\w)") for letter in PLACEHOLDER_LETTERS}
_ANY_PLACEHOLDER = re.compile(rf"(?<!\w)([{''.join(PLACEHOLDER_LETTERS)}])\d+(?!\w)")


@dataclass(frozen=True)
class Piece:
    text: str
    translate: bool


@dataclass(frozen=True)
class Slot:
    """What one placeholder stands for in the translation."""

    text: str  # the span verbatim, or a glossary term in the target language
    glue_left: bool  # no space before it in the message (the model got one)
    glue_right: bool  # no space after it


@dataclass(frozen=True)
class Sentence:
    """One sentence for the model: `model_input`, with placeholder k standing
    for slots[k-1]; `source` as it was written (for the piecewise fallback)."""

    model_input: str
    slots: tuple[Slot, ...] = ()
    source: str = ""
    letter: str = PLACEHOLDER_LETTERS[0]

    def restore(self, translated: str) -> str | None:
        """The translation with every placeholder put back; None unless each
        came back exactly once (in any order) and no other appeared."""
        if not self.slots:
            return translated
        found = list(_PLACEHOLDER[self.letter].finditer(translated))
        if sorted(int(m.group(1)) for m in found) != list(range(1, len(self.slots) + 1)):
            return None
        out: list[str] = []
        pos = 0
        for m in found:
            slot = self.slots[int(m.group(1)) - 1]
            before = translated[pos : m.start()]
            if slot.glue_left and before.endswith(" "):
                before = before[:-1]
            out += (before, slot.text)
            pos = m.end()
            if slot.glue_right and translated.startswith(" ", pos):
                pos += 1
        out.append(translated[pos:])
        return "".join(out)


# A message as the Translator handles it: kept text, and sentences for the model.
Part = str | Sentence


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


def plan(text: str, glossary: Glossary | None, src: str, tgt: str) -> list[Part]:
    """The message as kept text and whole sentences for the model, in order.
    Joining the kept texts and the sentences' `restore`d translations gives
    the translated message; with the model's input as its output, the
    message itself (glossary terms in the target language)."""
    parts: list[Part] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            parts.append("\n")
        prefix = match.group(1) if (match := _LINE_PREFIX.match(line)) else ""  # it matches even ""
        if prefix:
            parts.append(prefix)
        _plan_line(line[len(prefix) :], glossary, src, tgt, parts)
    return parts


def piecewise(source: str, glossary: Glossary | None, tgt: str) -> list[Part]:
    """One sentence the way it was translated before placeholders: cut at
    every protected span (numbers too), each piece translated alone. For a
    sentence whose placeholders did not come back."""
    pieces: list[Piece] = []
    _split_line(source, glossary, tgt, pieces)
    return [Sentence(p.text, source=p.text) if p.translate else p.text for p in pieces]


def split_pieces(text: str, glossary: Glossary | None, tgt: str) -> list[Piece]:
    """The message cut at every protected span (the piecewise way); joining
    all texts gives the input back (except glossary terms, which are already
    in the target language)."""
    pieces: list[Piece] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append(Piece("\n", False))
        prefix = match.group(1) if (match := _LINE_PREFIX.match(line)) else ""  # it matches even ""
        if prefix:
            pieces.append(Piece(prefix, False))
        _split_line(line[len(prefix) :], glossary, tgt, pieces)
    return pieces


# (start, end, text in the translation, kind) of one protected span of a line.
_Span = tuple[int, int, str, str]


def _spans(line: str, glossary: Glossary | None, tgt: str) -> list[_Span]:
    spans: list[_Span] = []
    if glossary and glossary.pattern:
        spans += [
            (m.start(), m.end(), glossary.target(m.group(), tgt), "term") for m in glossary.pattern.finditer(line)
        ]
    # Glossary spans win over overlapping protected ones. Both come in order
    # and do not overlap among themselves: one sweep.
    terms, k = len(spans), 0
    for m in _PROTECTED.finditer(line):
        while k < terms and spans[k][1] <= m.start():
            k += 1
        if k == terms or spans[k][0] >= m.end():
            spans.append((m.start(), m.end(), m.group(), _KIND[m.lastgroup or ""]))
    spans.sort()
    return spans


def _split_line(line: str, glossary: Glossary | None, tgt: str, out: list[Piece]) -> None:
    pos = 0
    for start, end, replacement, _ in _spans(line, glossary, tgt):
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


@dataclass(frozen=True)
class _LineSlot:
    """Placeholder spans of a line, merged where only whitespace is between them."""

    text: str  # in the translation
    original: str  # as written
    emoji: bool  # only emoji (and whitespace): kept out of the model at a sentence's ends
    inline: bool = False  # a number: masked only from pysbd, the model sees it as it is


def _plan_line(line: str, glossary: Glossary | None, src: str, tgt: str, out: list[Part]) -> None:
    slots: list[_LineSlot] = []
    masked: list[str] = []
    pos = 0
    for start, end, text, kind in _spans(line, glossary, tgt):
        inline = kind in _IN_SENTENCE
        if inline and "." not in text:
            continue  # nothing in it to end a sentence: left in the line
        gap = line[pos:start]
        if slots and not gap.strip() and not inline and not slots[-1].inline and slots[-1].emoji == (kind == "emoji"):
            # One placeholder for both (emoji apart: at a sentence's end they stay out of the model).
            last = slots[-1]
            slots[-1] = _LineSlot(last.text + gap + text, last.original + gap + line[start:end], last.emoji)
        else:
            masked += (gap, chr(_MARK + len(slots)))
            slots.append(_LineSlot(text, line[start:end], kind == "emoji", inline))
        pos = end
    masked.append(line[pos:])
    if len(slots) > _MARKS or _MARK_RE.search(line):  # cannot be masked: the piecewise way
        pieces: list[Piece] = []
        _split_line(line, glossary, tgt, pieces)
        for piece in pieces:
            if not piece.translate:
                out.append(piece.text)
                continue
            for sentence in sentences(piece.text, src):
                _add_sentence(sentence, [], out)
        return
    whole = "".join(masked)
    if _WORDLESS.fullmatch(whole):  # nothing to translate (and pysbd is slow on long runs of punctuation)
        out.append(_fill(whole, slots))
        return
    for sentence in sentences(whole, src):
        _add_sentence(sentence, slots, out, glossary, tgt)


def _fill(masked: str, slots: list[_LineSlot], original: bool = False) -> str:
    """`masked` with each mark replaced by its slot's text (or the original)."""
    if not slots:
        return masked
    if original:
        return _MARK_RE.sub(lambda m: slots[ord(m.group()) - _MARK].original, masked)
    return _MARK_RE.sub(lambda m: slots[ord(m.group()) - _MARK].text, masked)


def _joins(char: str, slots: list[_LineSlot]) -> bool:
    """Whether a placeholder next to `char` would merge with it into one word
    (a number next to it is still masked here)."""
    if _MARK_RE.match(char):
        return slots[ord(char) - _MARK].inline
    return char.isalnum() or char == "_"


def _add_sentence(
    masked: str, slots: list[_LineSlot], out: list[Part], glossary: Glossary | None = None, tgt: str = ""
) -> None:
    """One sentence of a masked line (pysbd's, with its whitespace) as kept
    text around at most one Sentence for the model."""
    unindented = masked.lstrip()
    body = unindented.rstrip()
    lead, trail = masked[: len(masked) - len(unindented)], unindented[len(body) :]
    # Emoji at the ends carry no grammar: outside, they cannot get lost.
    i, j = 0, len(body)
    while i < j and _is_emoji_mark(body, i, slots) and (i + 1 == j or body[i + 1].isspace()):
        i += 1
        while i < j and body[i].isspace():
            i += 1
    while j > i and _is_emoji_mark(body, j - 1, slots) and (j - 1 == i or body[j - 2].isspace()):
        j -= 1
        while j > i and body[j - 1].isspace():
            j -= 1
    head, core, tail = body[:i], body[i:j], body[j:]
    if not core or _WORDLESS.fullmatch(core):
        out.append(_fill(masked, slots))
        return
    if lead or head:
        out.append(lead + _fill(head, slots))
    sentence = _sentence(core, slots)
    # None: the placeholders cannot be told from the text (it has X1, Z1 and Q1 already).
    out.extend([sentence] if sentence else piecewise(_fill(core, slots, original=True), glossary, tgt))
    if tail or trail:
        out.append(_fill(tail, slots) + trail)


def _is_emoji_mark(text: str, i: int, slots: list[_LineSlot]) -> bool:
    return _MARK_RE.match(text, i) is not None and slots[ord(text[i]) - _MARK].emoji


def _sentence(core: str, slots: list[_LineSlot]) -> Sentence | None:
    """The model's input for one sentence (masked), with its slots; None if
    the sentence itself has words like X1, Z1 and Q1."""
    source = _fill(core, slots, original=True)
    marks = [m for m in _MARK_RE.finditer(core) if not slots[ord(m.group()) - _MARK].inline]
    if not marks:
        return Sentence(source, source=source)
    # What the model would see of the sentence itself (numbers back, placeholders not yet).
    visible = _MARK_RE.sub(lambda m: s.text if (s := slots[ord(m.group()) - _MARK]).inline else " ", core)
    taken = set(_ANY_PLACEHOLDER.findall(visible))
    letter = next((letter for letter in PLACEHOLDER_LETTERS if letter not in taken), None)
    if letter is None:
        return None
    text: list[str] = []
    placed: list[Slot] = []
    pos = 0
    for m in marks:
        k = m.start()
        left = k > 0 and _joins(core[k - 1], slots)
        right = k + 1 < len(core) and _joins(core[k + 1], slots)
        placed.append(Slot(slots[ord(m.group()) - _MARK].text, left, right))
        text += (core[pos:k], " " if left else "", f"{letter}{len(placed)}", " " if right else "")
        pos = m.end()
    text.append(core[pos:])
    return Sentence(_fill("".join(text), slots), tuple(placed), source, letter)  # numbers back in


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
