"""Understanding short answers on a phone: numbers, words in nl/de/en, typos."""

from __future__ import annotations

import re

# From the DIA documents: what members can exchange.
RESOURCES = (
    "knowledge",
    "experience",
    "people",
    "facilities",
    "networks",
    "processes",
    "data",
    "reputation",
    "finance",
    "training",
)
SIDES = ("nl", "de")
LANG_WORDS = {
    "nl": ("nederlands", "dutch", "niederländisch", "niederlaendisch", "hollands", "nl"),
    "de": ("deutsch", "duits", "german", "germany", "de"),
    "en": ("english", "engels", "englisch", "en"),
}
YES = (
    "ja",
    "j",
    "yes",
    "y",
    "jawel",
    "jazeker",
    "zeker",
    "jawohl",
    "klar",
    "gerne",
    "graag",
    "ok",
    "oke",
    "oké",
    "okay",
    "sure",
    "natuurlijk",
    "natürlich",
    "prima",
    "goed",
    "gut",
    "akkoord",
    "einverstanden",
    "agree",
)
NO = ("nee", "neen", "nein", "no", "n", "niet", "nicht", "liever niet", "lieber nicht", "nope", "nö")
SKIP = ("skip", "overslaan", "sla over", "überspringen", "ueberspringen", "weiter", "-", "/", "pass", "geen", "keine")


class Skip:
    """The member chose to skip this question."""


SKIPPED = Skip()


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().split()).strip(".!?")


def is_skip(text: str) -> bool:
    t = _norm(text)
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    return t in SKIP or bool(process.extractOne(t, SKIP, scorer=fuzz.ratio, score_cutoff=85))


def yes_no(text: str) -> bool | Skip | None:
    t = _norm(text)
    if not t:
        return None
    if t in YES or t in NO:
        return t in YES
    if is_skip(t):
        return SKIPPED
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    best = process.extractOne(t, YES + NO, scorer=fuzz.ratio, score_cutoff=75)
    return None if best is None else best[0] in YES


def choices(text: str, options: list[tuple[str, list[str]]], multi: bool) -> list[str] | Skip | None:
    """Keys chosen by number (1-based) or by (fuzzy) label; None: not understood."""
    t = _norm(text)
    if not t:
        return None
    if is_skip(t):
        return SKIPPED
    numbers = re.findall(r"\d+", t)
    if numbers and not re.sub(r"[\d\s,;/&+]|en|und|and", "", t):
        picked = []
        for n in numbers:
            i = int(n) - 1
            if not 0 <= i < len(options):
                return None
            picked.append(options[i][0])
        picked = list(dict.fromkeys(picked))
        return picked if multi or len(picked) == 1 else None
    labels = {label.lower(): key for key, names in options for label in names}
    parts = [p for p in re.split(r"\s*(?:,|;|/|&|\+|\ben\b|\bund\b|\band\b)\s*", t) if p] if multi else [t]
    picked = []
    for part in parts:
        if part.isdigit():  # a mix like "Fachwissen, 4"
            if not 0 < int(part) <= len(options):
                return None
            picked.append(options[int(part) - 1][0])
            continue
        from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

        best = process.extractOne(part, list(labels), scorer=fuzz.WRatio, score_cutoff=80)
        if best is None:
            return None
        picked.append(labels[best[0]])
    return list(dict.fromkeys(picked)) or None


def language(text: str) -> str | None:
    options = [(lang, list(words)) for lang, words in LANG_WORDS.items()]
    got = choices(text, options, multi=False)
    return got[0] if isinstance(got, list) else None


class TooLong:
    """Understood, but longer than the profile can hold: ask for a shorter one
    (saying so) instead of storing a cut or crashing on VARCHAR(n)."""

    def __init__(self, limit: int, length: int):
        self.limit, self.length = limit, length


def free_text(text: str, limit: int = 200) -> str | Skip | TooLong | None:
    t = " ".join(text.split())
    if is_skip(t):
        return SKIPPED
    if not t or not re.search(r"\w", t):
        return None
    if len(t) > limit:
        return TooLong(limit, len(t))
    return t


def guess_language(user_id: str) -> str | None:
    """From the homeserver's country domain, if it has one."""
    server = user_id.split(":", 1)[-1].split(":")[0].lower()
    if server.endswith(".nl"):
        return "nl"
    if server.endswith((".de", ".at")):
        return "de"
    return None
