"""The async translator on the real engine with tiny models: batching,
cache, pivot, and the model runs off the event loop."""

import asyncio
import threading

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


async def test_inference_leaves_the_event_loop_free(translator):
    """The model runs in a worker thread: while it is inside the engine, the
    loop still runs other coroutines. The engine call here waits until the
    loop itself releases it, so inference on the loop would never finish.
    (How responsive the loop stays under load is measured in bench/translation.py.)"""
    entered, released = threading.Event(), threading.Event()
    threads = set()
    engine_call = translator.engine.translate_sentences

    def gated(*args, **kwargs):
        threads.add(threading.get_ident())
        entered.set()
        if not released.wait(timeout=5):
            raise AssertionError("the event loop was blocked while the model ran")
        return engine_call(*args, **kwargs)

    translator.engine.translate_sentences = gated
    task = asyncio.create_task(translator.translate("Een zin om te vertalen, met wat extra woorden.", "nl", "de"))
    assert await asyncio.to_thread(entered.wait, 30)  # resumes here only if inference left the loop free
    released.set()
    assert isinstance(await asyncio.wait_for(task, 30), str)
    assert threads and threading.get_ident() not in threads


async def test_a_whole_sentence_with_placeholders_through_the_real_model(translator):
    """The tiny model's output is nonsense, so whether its placeholders come
    back is chance: either way the spans are there, verbatim, and the model
    saw the whole sentence with the number in it first."""
    seen: list[str] = []
    engine_call = translator.engine.translate_sentences

    def recording(hop, sentences):
        seen.extend(sentences)
        return engine_call(hop, sentences)

    translator.engine.translate_sentences = recording
    out = await translator.translate(
        "Ik heb gisteren 3 offertes gestuurd naar @katrin, zie https://x.org/a", "nl", "en"
    )
    assert seen[0] == "Ik heb gisteren 3 offertes gestuurd naar X1, zie X2"
    assert "@katrin" in out and "https://x.org/a" in out
    assert translator.fallbacks == (1 if len(seen) > 1 else 0)
