"""A burst from many rooms becomes one translate_batch call per hop (the
CTranslate2 limit for the burst), and one failing text fails only itself."""

import asyncio
import time

import pytest

from diabot.translation.engine import ArgosEngine, EngineSettings
from diabot.translation.segment import Glossary
from diabot.translation.translator import Translator


@pytest.fixture
def translator(packages):
    t = Translator(ArgosEngine(EngineSettings(packages)), None, Glossary([]), cache_size=0)
    yield t
    t.close()


async def test_a_burst_of_64_messages_is_one_batch(translator):
    texts = [f"Bedrijf {i} zoekt een partner voor het project in de grensregio." for i in range(64)]
    results = await asyncio.gather(*(translator.translate(t, "nl", "en") for t in texts))
    assert len(results) == 64 and all(isinstance(r, str) for r in results)
    # Not the first message alone and the rest after it: all 64 in one call.
    assert translator.batches == 1


class Dutch:
    """A language identifier that takes a little time, like the real one."""

    def detect(self, text: str) -> str:
        sum(range(20_000))
        return "nl"


async def test_a_burst_that_detects_first_like_the_plugin_is_one_batch(translator):
    translator.identifier = Dutch()

    async def job(text: str) -> str:  # what plugins/translate does per message
        return await translator.translate(text, await translator.detect(text), "en")

    texts = [f"Bedrijf {i} zoekt een monteur voor de werkplaats in Emmen." for i in range(64)]
    await asyncio.gather(*(job(t) for t in texts))
    assert translator.batches == 1


async def test_a_batch_waits_for_texts_still_being_segmented(translator, monkeypatch):
    # Two waves: the second arrives while the first is being segmented (a slow
    # segmenter), so it is segmented in a second job. The first wave's batch
    # waits for it instead of going alone.
    monkeypatch.setattr("diabot.translation.translator.COALESCE_S", 30)
    original = translator._segment

    def slow_segment(text, src, tgt):
        time.sleep(0.02)
        return original(text, src, tgt)

    monkeypatch.setattr(translator, "_segment", slow_segment)
    first = [asyncio.ensure_future(translator.translate(f"Eerste golf {i}.", "nl", "en")) for i in range(4)]
    await asyncio.sleep(0.01)
    second = [asyncio.ensure_future(translator.translate(f"Tweede golf {i}.", "nl", "en")) for i in range(4)]
    await asyncio.gather(*first, *second)
    assert translator.batches == 1


async def test_a_pivoted_burst_is_one_batch_per_hop(translator):
    texts = [f"Wij zoeken stagiair nummer {i} voor de werkplaats." for i in range(20)]
    await asyncio.gather(*(translator.translate(t, "nl", "de") for t in texts))
    assert translator.batches == 2  # nl->en, then en->de


async def test_a_text_that_cannot_be_segmented_fails_alone(translator, monkeypatch):
    original = translator._segment

    def segment(text, src, tgt):
        if "kapot" in text:
            raise ValueError("segmenter broke")
        return original(text, src, tgt)

    monkeypatch.setattr(translator, "_segment", segment)
    texts = ["Dit bericht is kapot.", *(f"Bericht {i} is heel." for i in range(5))]
    results = await asyncio.gather(*(translator.translate(t, "nl", "en") for t in texts), return_exceptions=True)
    assert isinstance(results[0], ValueError)
    assert all(isinstance(r, str) for r in results[1:])
    # The failed text does not keep the batch waiting for it.
    assert translator._segmenting == 0


async def test_a_lone_message_does_not_wait_for_company(translator, monkeypatch):
    # With a coalescing window of a minute, a lone message that waited for
    # others would hang: nothing is being segmented, so its batch goes at once.
    monkeypatch.setattr("diabot.translation.translator.COALESCE_S", 60)
    assert isinstance(await asyncio.wait_for(translator.translate("Een enkel bericht.", "nl", "en"), 30), str)
