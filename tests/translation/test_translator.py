"""The async translator on the real engine with tiny models: batching,
cache, pivot, and the event loop stays free."""

import asyncio
import time

import pytest

from diabot.translation.engine import ArgosEngine, EngineSettings, NoModel
from diabot.translation.segment import Glossary
from diabot.translation.translator import Translator


@pytest.fixture
def translator(packages):
    t = Translator(ArgosEngine(EngineSettings(packages)), None, Glossary([]))
    yield t
    t.close()


async def test_concurrent_requests_share_batches(translator):
    texts = [f"Bericht nummer {i} over de energietransitie in de regio." for i in range(16)]
    results = await asyncio.gather(*(translator.translate(t, "nl", "en") for t in texts))
    assert len(results) == 16
    # The first goes alone; everything that queued meanwhile goes together.
    assert translator.batches <= 3


async def test_cache_serves_identical_text(translator):
    first = await translator.translate("Tot morgen bij de bijeenkomst.", "nl", "en")
    before = translator.batches
    again = await asyncio.gather(
        *(translator.translate("Tot morgen bij de bijeenkomst.", "nl", "en") for _ in range(5))
    )
    assert again == [first] * 5 and translator.batches == before


async def test_pivot_and_missing_direction(translator):
    assert translator.engine.route("nl", "de") == [("nl", "en"), ("en", "de")]
    assert isinstance(await translator.translate("Wij zoeken een partner.", "nl", "de"), str)
    with pytest.raises(NoModel):
        await translator.translate("Wir suchen einen Partner.", "de", "nl")
    assert not translator.can_translate("de", "nl") and translator.can_translate("nl", "de")


async def test_event_loop_stays_responsive(translator):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    start = time.perf_counter()
    await asyncio.gather(
        *(
            translator.translate(f"Een langere zin nummer {i} om te vertalen, met wat extra woorden.", "nl", "de")
            for i in range(24)
        )
    )
    elapsed = time.perf_counter() - start
    task.cancel()
    # The loop kept ticking while the worker thread translated.
    assert ticks >= 0.2 * elapsed / 0.005
