"""One message must not freeze the bot (issue 12, finding 3): a 60 KB
message stalled sync, every command and the outbox for 32.6 s, because
segmentation ran on the event loop with a quadratic e-mail pattern and
pysbd on the whole text.

Numbers on the 2-core test machine, old -> new without the cap -> new as
the bot runs it (first 4000 characters), from bench/segment_worst.py:
60 KB of letters without spaces 13.5 s -> 0.04 s -> 0.003 s; dots 5.9 s ->
0.03 s; glossary terms 9.1 s -> 0.06 s; "Mr. " (pysbd) 68 s -> 1.2 s ->
0.08 s. The bounds here are generous; the old code misses them by far."""

import asyncio
import random
import time

import pytest

from diabot.translation.engine import ArgosEngine, EngineSettings
from diabot.translation.segment import Glossary, cut, plan, sentences, split_pieces
from diabot.translation.translator import Translator

SIZE = 60_000
GLOSSARY = Glossary(
    [
        {"nl": "KvK", "de": "Handelsregister"},
        {"nl": "BV", "de": "GmbH"},
        {"nl": "Ondernemend Emmen", "de": "Ondernemend Emmen"},
    ]
)
MIXED = (
    "Hoi @jan:example.org, zie https://example.org/a?b=1 of mail a.b@c.nl 👍 om 10:30 op 24-12-2026 "
    "voor € 12,50. Onze BV zoekt een partner bij de KvK! Wie doet mee? #energie `code`\n- punt **vet**\n"
)


def rep(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# The worst inputs we found for the protected-span patterns (each was
# quadratic or worse somewhere) and for pysbd.
WORST = {
    "letters": rep("a"),
    "a@a.a": rep("a@a.a"),
    "a@": rep("a@"),
    "dots": rep("."),
    "a.": rep("a."),
    "digits": rep("1"),
    "digits.": rep("1."),
    "at-letters": "@" + rep("a")[1:],
    "at-runs": rep("@a.b=c/d+e-f"),
    "hash-runs": rep("#a.b=c"),
    "bang-runs": rep("!a.b=c"),
    "urls": rep("http://."),
    "www": rep("www."),
    "backticks": rep("`a"),
    "fences": rep("```a``"),
    "glossary": rep("BV 1 "),
    "prefixes": rep("- 1. > # "),
    "quotes": rep(">"),
    "spaces": rep(" ") + "x",
    "lines": rep("a\n"),
    "words": rep("woord "),
    "sentences": rep("Dit is een zin. "),
    "abbreviations": rep("Mr. "),
    "numbered": rep("1. "),
    "pysbd-dash": rep(".-"),
    "pysbd-hash": rep("#."),
    "pysbd-quote": rep("'."),
    "pysbd-paren": rep(")."),
    "mixed": rep(MIXED),
}


def best_of(fn, times: int = 2) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("kind", WORST)
def test_the_bot_segments_any_60kb_message_quickly(kind):
    """What the translator's worker thread does with a message: at most
    max_chars (4000) of it, into whole sentences with placeholders, and the
    piecewise way for a sentence whose placeholders did not come back."""
    text = WORST[kind]

    def segment():
        head, _ = cut(text, 4000)
        return plan(head, GLOSSARY, "nl", "de"), [
            sentences(p.text, "nl") for p in split_pieces(head, GLOSSARY, "de") if p.translate
        ]

    assert best_of(segment, 1) < 2.0


@pytest.mark.parametrize("kind", WORST)
def test_protected_spans_are_linear_without_the_cap(kind):
    """The patterns themselves, on the whole 60 KB (what the piecewise way
    and the placeholders share): old code 5-13 s on letters, dots and
    glossary terms."""
    assert best_of(lambda: split_pieces(WORST[kind], GLOSSARY, "de"), 1) < 2.0


@pytest.mark.parametrize("unit", ["Dit is een zin. ", "Mr. ", "1. ", ".-", "#.", "a.", "woord en. "])
def test_sentence_splitting_is_linear_without_the_cap(unit):
    """pysbd is quadratic in its input; it gets bounded chunks, so 8x the
    text costs about 8x the time (quadratic would be 64x)."""
    small, big = rep(unit, 4000), rep(unit, 32_000)
    sentences(small, "nl")  # warm up
    t_small = best_of(lambda: sentences(small, "nl"), 3)
    t_big = best_of(lambda: sentences(big, "nl"), 2)
    assert t_big < 20 * t_small + 0.05, (t_small, t_big)


def test_sentences_and_chunks_keep_the_text():
    for text in (rep("Dit is een zin. ", 5000), rep("a", 1700), rep("woord ", 3000), "Kort. Zo! En nu?  Ja"):
        assert "".join(sentences(text, "nl")) == text


def test_cut_keeps_everything_and_respects_the_limit():
    text = rep("Eerste zin hier. Tweede zin daar!\n", 10_000)
    head, rest = cut(text, 4000)
    assert head + rest == text and len(head) <= 4000 and rest.startswith("\n")
    head, rest = cut(rep("a", 10_000), 4000)
    assert (len(head), len(rest)) == (4000, 6000)
    assert cut("kort", 4000) == ("kort", "")


# ---- the event loop while a huge message is translated -------------------------------


def distinct_sentences(size: int) -> str:
    """Dutch-looking text with abbreviations (pysbd's slow case) and many
    different sentences (one task each)."""
    rng = random.Random(1)
    words = [
        "wij",
        "zoeken",
        "een",
        "partner",
        "voor",
        "de",
        "energietransitie",
        "in",
        "Emmen",
        "bijv.",
        "dhr.",
        "mevr.",
        "zonnepanelen",
        "op",
        "het",
        "dak",
        "van",
        "ons",
        "bedrijf",
        "met",
        "subsidie",
        "en",
        "hulp",
    ]
    out = []
    while sum(map(len, out)) < size:
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))).capitalize() + ". ")
    return "".join(out)[:size]


async def max_loop_stall(coro) -> tuple[float, object]:
    """Run `coro` while a ticker measures the longest gap between its ticks."""
    stall, last, done = 0.0, time.perf_counter(), False

    async def ticker():
        nonlocal stall, last
        while not done:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            stall, last = max(stall, now - last - 0.002), now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    try:
        result = await coro
    finally:
        done = True
        await task
    return stall, result


@pytest.mark.parametrize(
    "max_chars, text",
    [
        (4000, rep(MIXED)),  # the default cap, 60 KB of chat
        (60_000, distinct_sentences(6000)),  # many different sentences (one task each)
        (60_000, rep("Mr. ")),  # the cap raised: all 60 KB is segmented (>1 s of pysbd)
    ],
)
async def test_event_loop_stays_responsive_during_a_huge_message(packages, max_chars, text):
    translator = Translator(ArgosEngine(EngineSettings(packages)), None, GLOSSARY, max_chars=max_chars)
    try:
        await translator.translate("Hallo wereld.", "nl", "de")  # load the models outside the measurement
        stall, out = await max_loop_stall(translator.translate(text, "nl", "de"))
    finally:
        translator.close()
    assert isinstance(out, str) and out
    assert stall < 0.5, f"the event loop stood still for {stall:.2f} s"


async def test_only_the_first_max_chars_are_translated(packages):
    translator = Translator(ArgosEngine(EngineSettings(packages)), None, GLOSSARY, max_chars=4000)
    head_marker, tail_marker = "https://example.org/head", "https://example.org/tail"
    text = f"Kijk op {head_marker} alsjeblieft. " + rep("Dhr. Jansen zoekt een partner. ") + f" Zie {tail_marker}"
    try:
        start = time.perf_counter()
        out = await translator.translate(text, "nl", "de")
        elapsed = time.perf_counter() - start
    finally:
        translator.close()
    # URLs pass through verbatim: the one at the start is there, the one past the cap is not.
    assert head_marker in out and tail_marker not in out
    assert elapsed < 5.0
