"""Segmentation on the worst inputs we could construct: the old code (the
patterns and pysbd call as of 1dc89e3, copied inline below) against the
current one, in the same run. Prints one table.

- old ms: the old split_pieces + sentences on the whole input (what ran on
  the event loop for every message before).
- new ms: the current `plan` (whole sentences with placeholders, pysbd on
  the masked lines) on the whole input, no cap.
- bot ms: what the bot does now: only the first `max_chars` (4000), cut
  with `cut`, in the translator's worker thread.

    .venv/bin/python bench/segment_worst.py [--size 60000] [--repeat 3] [--lang nl]

On the 2-core test machine (60 KB, one run each; the old abbreviations case
alone takes over a minute). Measured with whole sentences and placeholders
(`plan`); the piecewise split it replaced took 15 ms (a@a.a), 136 ms (mixed
chat) and 1091 ms (abbreviations) in the same run: pysbd now sees whole
lines (URLs and e-mail addresses masked) instead of the pieces between
protected spans.

    input                     size     old ms    new ms    ratio   bot ms
    letters, no spaces       60000    12074.8      47.8  252.61x      3.2
    a@a.a, no spaces         60000       11.4      36.1    0.32x      1.5
    dots                     60000     5716.5      39.6  144.30x      3.0
    a. a. (no spaces)        60000     8807.5     212.0   41.55x     16.6
    digits                   60000        3.5       2.5    1.37x      0.2
    @ + letters              60000        1.7      54.3    0.03x      3.5
    http://. repeated        60000        1.8       2.2    0.84x      0.2
    backtick runs            60000     1485.0      78.2   19.00x      4.3
    glossary + numbers       60000     9162.7      57.0  160.66x      3.9
    plain words              60000     6713.7      26.7  251.20x      1.8
    short sentences          60000     6970.2     309.4   22.53x     20.8
    abbreviations (Mr.)      60000    69568.3    1186.4   58.64x     79.5
    numbered (1. )           60000        5.2       2.8    1.84x      0.1
    mixed chat, 60 KB        60000      578.2     272.9    2.12x     17.3

"@ + letters" got slower (0.002 -> 0.05 s, still linear): an @mention is
at most 255 characters, so the rest of the run is text and goes through
the bounded e-mail pattern.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from diabot.translation import segment  # noqa: E402

GLOSSARY = segment.Glossary(
    [
        {"nl": "KvK", "de": "Handelsregister"},
        {"nl": "BV", "de": "GmbH"},
        {"nl": "Ondernemend Emmen", "de": "Ondernemend Emmen"},
    ]
)
MAX_CHARS = 4000

# ---- the old code, verbatim (segment.py as of 1dc89e3) ----------------------------

_OLD_PATTERNS = [
    r"```.*?```",
    r"`[^`\n]+`",
    r"(?:https?|ftp)://[^\s<>\"]+[^\s<>\".,;:!?)\]]",
    r"www\.[^\s<>\"]+[^\s<>\".,;:!?)\]]",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"@[\w.=/+-]+:[\w.-]+(?::\d+)?",
    r"@\w[\w.-]*",
    r"[#!][\w.=/+-]+:[\w.-]+",
    r"#\w+",
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b",
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",
    r"(?:[€$£]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|€))?",
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+",
    r"\*\*|__|~~",
    r"(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)",
]
_OLD_PROTECTED = re.compile("|".join(f"(?:{p})" for p in _OLD_PATTERNS), re.DOTALL)
_OLD_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+|>+\s?|#{1,6}\s+)*)")
_OLD_WORDLESS = re.compile(r"^[\W\d_]*$")


def _old_target(glossary, term, tgt):
    for entry in glossary.entries:
        if term in entry.values():
            return entry.get(tgt, term)
    return term


def old_split_pieces(text, glossary, tgt):
    pieces = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append(("\n", False))
        prefix = _OLD_LINE_PREFIX.match(line).group(1)
        if prefix:
            pieces.append((prefix, False))
        _old_split_line(line[len(prefix) :], glossary, tgt, pieces)
    return pieces


def _old_split_line(line, glossary, tgt, out):
    spans = []
    if glossary and glossary.pattern:
        spans += [(m.start(), m.end(), _old_target(glossary, m.group(), tgt)) for m in glossary.pattern.finditer(line)]
    taken = [(s, e) for s, e, _ in spans]
    for m in _OLD_PROTECTED.finditer(line):
        if not any(s < m.end() and m.start() < e for s, e in taken):
            spans.append((m.start(), m.end(), m.group()))
    pos = 0
    for start, end, replacement in sorted(spans):
        if start > pos:
            _old_add_run(line[pos:start], out)
        out.append((replacement, False))
        pos = end
    if pos < len(line):
        _old_add_run(line[pos:], out)


def _old_add_run(run, out):
    core = run.strip()
    if not core or _OLD_WORDLESS.match(core):
        out.append((run, False))
        return
    lead = run[: len(run) - len(run.lstrip())]
    trail = run[len(run.rstrip()) :]
    if lead:
        out.append((lead, False))
    out.append((core, True))
    if trail:
        out.append((trail, False))


def old_segment(text, lang):
    seg = segment._segmenter(lang)
    return [[s for s in seg.segment(t) if s] if tr else None for t, tr in old_split_pieces(text, GLOSSARY, "de")]


# ---- the current code ----------------------------------------------------------------


def new_segment(text, lang):
    return segment.plan(text, GLOSSARY, lang, "de")


def bot_segment(text, lang):
    return new_segment(segment.cut(text, MAX_CHARS)[0], lang)


def worst_inputs(size: int) -> dict[str, str]:
    def rep(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    mixed = (
        "Hoi @jan:example.org, zie https://example.org/a?b=1 of mail a.b@c.nl 👍 om 10:30 op 24-12-2026 "
        "voor € 12,50. Onze BV zoekt een partner bij de KvK! Wie doet mee? #energie `code`\n- punt **vet**\n"
    )
    return {
        "letters, no spaces": rep("a"),
        "a@a.a, no spaces": rep("a@a.a"),
        "dots": rep("."),
        "a. a. (no spaces)": rep("a."),
        "digits": rep("1"),
        "@ + letters": "@" + rep("a")[1:],
        "http://. repeated": rep("http://."),
        "backtick runs": rep("`a"),
        "glossary + numbers": rep("BV 1 "),
        "plain words": rep("woord "),
        "short sentences": rep("Dit is een zin. "),
        "abbreviations (Mr.)": rep("Mr. "),
        "numbered (1. )": rep("1. "),
        "mixed chat, 60 KB": rep(mixed),
    }


def median_ms(fn, text, lang, repeat) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(text, lang)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", default="nl")
    args = parser.parse_args()
    segment._segmenter(args.lang)  # load pysbd outside the timings
    print(f"{'input':<22} {'size':>7} {'old ms':>10} {'new ms':>9} {'ratio':>8} {'bot ms':>8}")
    worst_new = 0.0
    for kind, text in worst_inputs(args.size).items():
        old = median_ms(old_segment, text, args.lang, args.repeat)
        new = median_ms(new_segment, text, args.lang, args.repeat)
        bot = median_ms(bot_segment, text, args.lang, args.repeat)
        worst_new = max(worst_new, new)
        print(f"{kind:<22} {len(text):>7} {old:>10.1f} {new:>9.1f} {old / new:>7.2f}x {bot:>8.1f}", flush=True)
    print(f"\nslowest new: {worst_new:.0f} ms on {args.size} characters (median of {args.repeat})")


if __name__ == "__main__":
    main()
