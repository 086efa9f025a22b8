"""Understanding short answers typed on a phone: numbers, words in nl/de/en,
typos, emoji. Answers are read as whole tokens (words, numbers, emoji), never
by searching one string inside another: "de" is not found in "goedemorgen"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

SIDES = ("nl", "de")
# Besides the catalog's names of the two countries.
SIDE_WORDS = {"nl": ("nl", "🇳🇱", "holland", "nederlandse"), "de": ("de", "🇩🇪", "deutsche", "duitse")}

# ---- yes and no -----------------------------------------------------------------------------
YES = frozenset(
    (
        *("ja", "j", "jaja", "jawel", "jazeker", "zeker", "natuurlijk", "tuurlijk", "uiteraard", "graag", "goed"),
        *("prima", "akkoord", "oke", "oké", "okee", "okido", "prachtig", "perfect", "top", "super"),
        *("jawohl", "jawoll", "jo", "joa", "jep", "klar", "gerne", "gern", "natürlich", "natuerlich", "sicher"),
        *("selbstverständlich", "logisch", "gut", "einverstanden", "genau", "perfekt", "absolut", "freilich"),
        *("yes", "y", "yep", "yup", "yeah", "yea", "ya", "sure", "ok", "okay", "okey", "oki", "k", "kk", "fine"),
        *("agree", "agreed", "absolutely", "certainly", "definitely", "alright", "great"),
    )
)
NO = frozenset(
    (
        *("nee", "neen", "ne", "niet", "nooit", "nein", "nö", "noe", "nicht", "niemals", "nie"),
        *("keinesfalls", "no", "n", "nope", "nah", "nay", "never", "not"),
    )
)
NEGATIONS = frozenset(("niet", "nicht", "not", "no", "nee", "nein", "kein", "keine", "geen"))
YES_EMOJI = frozenset("👍✅✔☑👌🙂😊😀😃😄👏💯🆗✌🤝❤💪")
NO_EMOJI = frozenset("👎❌✖🚫⛔🙅")
# Words that change nothing when they come first: "Nou, ja", "Hallo, nein danke".
FILLERS = frozenset(
    (
        *("nou", "tja", "hmm", "hm", "eh", "uh", "um", "oh", "ach", "och", "also", "well", "äh", "ähm", "ehm"),
        *("hallo", "hoi", "hi", "hey", "moin", "hoor", "doch", "dann", "then", "danke", "dank", "bedankt"),
        *("dankjewel", "dankuwel", "je", "thanks", "thank", "you", "thx", "bitte", "please", "alsjeblieft"),
    )
)
# Phrases read before single words (tokens in order). Not sure: ask again.
UNSURE = (
    ("misschien",),
    ("vielleicht",),
    ("maybe",),
    ("perhaps",),
    ("jein",),
    ("weet", "niet"),
    ("weet", "ik", "niet"),
    ("geen", "idee"),
    ("weiß", "nicht"),
    ("weiss", "nicht"),
    ("keine", "ahnung"),
    ("don't", "know"),
    ("not", "sure"),
    ("niet", "zeker"),
    ("nicht", "sicher"),
    ("no", "idea"),
)
# Wherever they stand, even after a "ja": "Ja, lieber nicht" is a no.
DECLINE = (
    ("lieber", "nicht"),
    ("liever", "niet"),
    ("besser", "nicht"),
    ("beter", "niet"),
    ("rather", "not"),
    ("no", "thanks"),
    ("no", "thank"),
    ("nein", "danke"),
    ("nee", "dank"),
    ("nee", "dankjewel"),
    ("nee", "bedankt"),
    ("niet", "nodig"),
    ("nicht", "nötig"),
    ("not", "now"),
    ("niet", "nu"),
    ("nicht", "jetzt"),
    ("auf", "keinen", "fall"),
    ("geen", "sprake"),
    ("echt", "niet"),
    ("no", "way"),
    ("don't",),
    ("do", "not"),
    ("ik", "wil", "niet"),
    ("ich", "will", "nicht"),
    ("ich", "möchte", "nicht"),
)
# Phrases whose words alone would mislead: "no problem" is a yes.
ACCEPT = (
    ("no", "problem"),
    ("kein", "problem"),
    ("geen", "probleem"),
    ("geen", "punt"),
    ("why", "not"),
    ("warum", "nicht"),
    ("waarom", "niet"),
    ("of", "course"),
    ("na", "klar"),
    ("auf", "jeden", "fall"),
    ("doe", "maar"),
    ("go", "ahead"),
    ("sounds", "good"),
    ("klingt", "gut"),
    ("klinkt", "goed"),
    ("geht", "klar"),
    ("von", "mir", "aus"),
    ("mag", "wel"),
    ("liever", "wel"),
    ("don't", "mind"),
    ("no", "objection"),
    ("geen", "bezwaar"),
    ("nichts", "dagegen"),
    ("niks", "op", "tegen"),
    ("please", "do"),
)
SKIP = (
    *("skip", "overslaan", "sla over", "volgende", "n.v.t", "nvt", "geen", "niks"),
    *("überspringen", "ueberspringen", "weiter", "keine", "keine angabe", "k.a", "nichts"),
    *("pass", "next", "none", "n/a", "nothing", "-", "/"),
)
# Multiple choice: a number in words, and "all of them".
NUMBER_WORDS = {
    **dict.fromkeys(("een", "één", "eins", "one", "eerste", "erste", "first"), 1),
    **dict.fromkeys(("twee", "zwei", "two", "tweede", "zweite", "second"), 2),
    **dict.fromkeys(("drie", "drei", "three", "derde", "dritte", "third"), 3),
    **dict.fromkeys(("vier", "four"), 4),
    **dict.fromkeys(("vijf", "fünf", "five"), 5),
    **dict.fromkeys(("zes", "sechs", "six"), 6),
    **dict.fromkeys(("zeven", "sieben", "seven"), 7),
    **dict.fromkeys(("acht", "eight"), 8),
    **dict.fromkeys(("negen", "neun", "nine"), 9),
    **dict.fromkeys(("tien", "zehn", "ten"), 10),
}
ALL_WORDS = frozenset(("alle", "alles", "allemaal", "all", "everything"))
# What may stand between numbers: "1 en 3", "1 und 3", "nr. 2", "Nummer 4".
NUMBER_GLUE = frozenset(("en", "und", "and", "of", "oder", "or", "nr", "nummer", "number", "no", "&", "+", "#"))
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;/&+\n]|\ben\b|\bund\b|\band\b)\s*")


class Skip:
    """The member chose to skip this question."""


SKIPPED = Skip()


# ---- tokens -----------------------------------------------------------------------------------

# Skin tones, variation selectors and joiners: 👍🏽 and 👍 are the same answer.
_EMOJI_NOISE = re.compile("[\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff]")
_TOKEN = re.compile(r"[\U0001F1E6-\U0001F1FF]{2}|\d+|[^\W\d_]+(?:'[^\W\d_]+)*|\S")


def tokens(text: str) -> list[str]:
    """Lower-case words (with inner apostrophes: "thema's", "don't"),
    numbers, emoji and flags; punctuation dropped."""
    text = _EMOJI_NOISE.sub("", unicodedata.normalize("NFC", text).lower()).replace("’", "'")
    return [t for t in _TOKEN.findall(text) if t[0].isalnum() or unicodedata.category(t[0]) == "So"]


def _spellings(token: str) -> Iterator[str]:
    """ "jaaa" -> "jaa", "ja"; "neeee" -> "nee": people stretch short words."""
    yield token
    yield re.sub(r"(.)\1{2,}", r"\1\1", token)
    yield re.sub(r"(.)\1+", r"\1", token)


def _known(token: str, words: Iterable[str]) -> bool:
    vocabulary = words if isinstance(words, frozenset) else frozenset(words)
    return any(s in vocabulary for s in _spellings(token))


def _find(toks: list[str], phrases: Iterable[tuple[str, ...]]) -> int | None:
    """Where the first of `phrases` starts in `toks`, if anywhere."""
    starts = [
        i
        for phrase in phrases
        for i in range(len(toks) - len(phrase) + 1)
        if tuple(toks[i : i + len(phrase)]) == phrase
    ]
    return min(starts) if starts else None


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().split()).strip(".!?")


def is_skip(text: str) -> bool:
    t = _norm(text)
    if t in SKIP:
        return True
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    return len(t) >= 4 and bool(process.extractOne(t, SKIP, scorer=fuzz.ratio, score_cutoff=85))


def _close_word(token: str, words: frozenset[str]) -> bool:
    """A typo of a longer word ("natürluch", "vielliecht"), never of a short one."""
    if len(token) < 4:
        return False
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    return bool(process.extractOne(token, [w for w in words if len(w) >= 4], scorer=fuzz.ratio, score_cutoff=85))


# ---- yes / no ---------------------------------------------------------------------------------


def yes_no(text: str) -> bool | Skip | None:
    """True, False, SKIPPED, or None when unsure (then ask again, briefly)."""
    toks = tokens(text)
    if not toks:
        return None
    if _find(toks, UNSURE) is not None:
        return None
    declined, accepted = _find(toks, DECLINE), _find(toks, ACCEPT)
    if declined is not None or accepted is not None:
        # "no problem" vs "no thanks": whichever phrase comes first ("I don't mind": the longer).
        return accepted is not None and (declined is None or accepted <= declined)
    words = [t for t in toks if not _known(t, FILLERS)][:4]
    for i, token in enumerate(words):
        if _known(token, YES):
            # "zeker niet", "natürlich nicht": the yes word is negated.
            return not (i + 1 < len(words) and words[i + 1] in NEGATIONS)
        if _known(token, NO):
            return False
    moods = {True for t in toks if t in YES_EMOJI} | {False for t in toks if t in NO_EMOJI}
    if len(moods) == 1:
        return moods.pop()
    if is_skip(text):
        return SKIPPED
    for token in words[:2]:
        if _close_word(token, YES):
            return True
        if _close_word(token, NO):
            return False
    return None


# ---- choices from a list ----------------------------------------------------------------------


def numbers_in(toks: list[str]) -> list[int] | None:
    """The numbers of an answer made only of numbers ("1, 3", "nr. 2",
    "zwei und vier"); None if it has other words."""
    numbers = []
    for token in toks:
        if token.isdigit():
            numbers.append(int(token))
        elif token in NUMBER_WORDS:
            numbers.append(NUMBER_WORDS[token])
        elif token not in NUMBER_GLUE:
            return None
    return numbers or None


def _label_matches(part: str, label: str) -> bool:
    """Short labels ("nl", "de", an emoji) only as the whole answer: "de" in
    "aan de Nederlandse kant" is an article."""
    return len(label) <= 3 and tokens(part) == [label]


def choices(text: str, options: list[tuple[str, list[str]]], multi: bool) -> list[str] | Skip | None:
    """Keys chosen by number (1-based), by (fuzzy) label or, for a multiple
    choice, "all"; None: not understood."""
    toks = tokens(text)
    if not toks:
        return SKIPPED if is_skip(text) else None
    if multi and len(toks) == 1 and toks[0] in ALL_WORDS:
        return [key for key, _ in options]
    numbers = numbers_in(toks)
    if numbers is not None:
        if not all(0 < n <= len(options) for n in numbers):
            return None
        picked = list(dict.fromkeys(options[n - 1][0] for n in numbers))
        return picked if multi or len(picked) == 1 else None
    if is_skip(text):
        return SKIPPED
    parts = [p for p in _LIST_SEPARATOR.split(_norm(text)) if p] if multi else [_norm(text)]
    picked = []
    for part in parts:
        got = _one_choice(part, options)
        if got is None:
            return None
        picked.append(got)
    return list(dict.fromkeys(picked)) or None


def _one_choice(part: str, options: list[tuple[str, list[str]]]) -> str | None:
    part_numbers = numbers_in(tokens(part))
    if part_numbers is not None:  # a mix like "Fachwissen, 4"
        n = part_numbers[0]
        return options[n - 1][0] if len(part_numbers) == 1 and 0 < n <= len(options) else None
    for key, names in options:
        if any(_label_matches(part, name.lower()) for name in names):
            return key
    labels = {name.lower(): key for key, names in options for name in names if len(name) > 3}
    from rapidfuzz import fuzz, process  # on first use: ~3 MB of RSS the idle bot never needs

    best = process.extractOne(part, list(labels), scorer=fuzz.WRatio, score_cutoff=80)
    return None if best is None else labels[best[0]]


# ---- free text --------------------------------------------------------------------------------


class TooLong:
    """Understood, but longer than the profile can hold: ask for a shorter one
    (saying so) instead of storing a cut or crashing on VARCHAR(n)."""

    def __init__(self, limit: int, length: int):
        self.limit, self.length = limit, length


def free_text(text: str, limit: int = 200) -> str | Skip | TooLong | None:
    t = " ".join(text.split())
    if is_skip(t):
        return SKIPPED
    if not t or not re.search(r"[^\W_]", t):
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
