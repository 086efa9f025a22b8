"""Whole sentences with placeholders through the real Translator, over fake
models that copy, reorder, drop, duplicate or invent placeholders. Copied
and reordered ones are put back; a sentence that lost or repeated one is
translated piecewise (the old way) and counted in /metrics."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from diabot.metrics import Metrics
from diabot.testing import FakeEngine
from diabot.translation.segment import Glossary
from diabot.translation.translator import Translator

SENTENCE = "Ik heb gisteren 3 offertes gestuurd naar @katrin"
PIECES = ["Ik heb gisteren", "offertes gestuurd naar"]  # what the old way sent


class Model(FakeEngine):
    """A "model" that rewrites each sentence with `fn` (after tagging it with the target)."""

    def __init__(self, fn: Callable[[str], str], pairs=(("nl", "de"), ("nl", "en"), ("en", "de"))):
        super().__init__(pairs)
        self.fn = fn

    def translate_sentences(self, hop, sentences):
        self.calls.append((hop, list(sentences)))
        return [self.fn(f"{s} [{hop[1]}]") for s in sentences]

    def seen(self) -> list[str]:
        return [s for _, batch in self.calls for s in batch]


def copy(s: str) -> str:
    return s


def swap_1_and_2(s: str) -> str:
    """What a model does when the target language wants the order the other way round."""
    return s.replace("X1", "\0").replace("X2", "X1").replace("\0", "X2")


def drop_1(s: str) -> str:
    return re.sub(r"\s?\bX1\b", "", s)


def twice_1(s: str) -> str:
    return s.replace("X1", "X1 X1", 1)


def invent_9(s: str) -> str:
    return s + " X9" if "X1" in s else s


@pytest.fixture
def metrics():
    return Metrics()


def translator_with(fn, metrics, glossary=None) -> tuple[Translator, Model]:
    model = Model(fn)
    return Translator(model, None, glossary, on_fallback=metrics.translation_piecewise.inc), model


def piecewise_count(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("diabot_translation_piecewise_sentences_total") or 0.0


async def test_a_copied_placeholder_is_put_back_in_the_whole_sentence(metrics):
    translator, model = translator_with(copy, metrics)
    out = await translator.translate(SENTENCE, "nl", "de")
    assert model.seen() == ["Ik heb gisteren 3 offertes gestuurd naar X1"]  # one sentence, the number in it
    assert out == "Ik heb gisteren 3 offertes gestuurd naar X1 [de]".replace("X1", "@katrin")
    assert translator.fallbacks == 0 and piecewise_count(metrics) == 0


async def test_reordered_placeholders_are_accepted_and_follow_their_number(metrics):
    translator, model = translator_with(swap_1_and_2, metrics)
    out = await translator.translate("Hoi @jan, kijk op https://x.org/a?b=1 voor de aanmelding", "nl", "de")
    assert model.seen() == ["Hoi X1, kijk op X2 voor de aanmelding"]
    # The model moved the URL to the front and the mention back: each span goes where its number went.
    assert out == "Hoi https://x.org/a?b=1, kijk op @jan voor de aanmelding [de]"
    assert translator.fallbacks == 0


@pytest.mark.parametrize("model_fn", [drop_1, twice_1, invent_9], ids=["dropped", "duplicated", "invented"])
async def test_a_sentence_with_a_lost_or_extra_placeholder_is_translated_piecewise(metrics, model_fn):
    translator, model = translator_with(model_fn, metrics)
    out = await translator.translate(SENTENCE, "nl", "de")
    whole, *pieces = model.seen()
    assert whole == "Ik heb gisteren 3 offertes gestuurd naar X1"
    assert sorted(pieces) == sorted(PIECES)  # then the old way: cut at the number and the mention
    assert out == "Ik heb gisteren [de] 3 offertes gestuurd naar [de] @katrin"
    assert translator.fallbacks == 1 and piecewise_count(metrics) == 1


async def test_only_the_failed_sentence_goes_piecewise(metrics):
    def drop_in_second(s: str) -> str:
        return drop_1(s) if s.startswith("Mail") else s

    translator, model = translator_with(drop_in_second, metrics)
    out = await translator.translate("Zie https://x.org voor meer. Mail info@dia.eu vandaag!", "nl", "de")
    assert out == "Zie https://x.org voor meer. [de] Mail [de] info@dia.eu vandaag! [de]"
    assert "Zie X1 voor meer." in model.seen() and "Mail" in model.seen()
    assert translator.fallbacks == 1 and piecewise_count(metrics) == 1


async def test_placeholders_survive_a_pivot_and_glossary_terms_come_back_translated(metrics):
    glossary = Glossary([{"nl": "BV", "de": "GmbH", "en": "Ltd"}])
    translator, model = translator_with(copy, metrics, glossary)
    model._packages.pop(("nl", "de"))  # nl -> en -> de
    out = await translator.translate("Onze BV zoekt een partner, mail info@bv.nl.", "nl", "de")
    assert [hop for hop, _ in model.calls] == [("nl", "en"), ("en", "de")]
    assert model.seen()[0] == "Onze X1 zoekt een partner, mail X2."
    assert out == "Onze GmbH zoekt een partner, mail info@bv.nl. [en] [de]"
    assert translator.fallbacks == 0


async def test_glued_markers_and_emoji_come_back_without_the_models_spaces(metrics):
    translator, model = translator_with(copy, metrics)
    out = await translator.translate("Dit is **heel** belangrijk 👍", "nl", "de")
    assert model.seen() == ["Dit is X1 heel X2 belangrijk"]  # the trailing emoji never goes in
    assert out == "Dit is **heel** belangrijk [de] 👍"


async def test_the_cache_serves_sentences_that_differ_only_in_their_spans(metrics):
    translator, model = translator_with(copy, metrics)
    first = await translator.translate("Kijk eens op https://a.example voor het programma", "nl", "de")
    second = await translator.translate("Kijk eens op https://b.example voor het programma", "nl", "de")
    assert model.seen() == ["Kijk eens op X1 voor het programma"]  # translated once
    assert "https://a.example" in first and "https://b.example" in second
