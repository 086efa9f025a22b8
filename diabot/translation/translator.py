"""The async translation service plugins use.

- Never on the event loop: inference runs in one worker thread (CTranslate2
  parallelises inside a batch), language id and segmentation (protected spans,
  sentences) in another, so segmenting a burst never waits behind a batch;
  the loop only hands out sentences and joins the results.
- Bounded: only the first `max_chars` of a text are looked at (`cut` says
  where the rest begins, so callers can say it was not translated).
- Micro-batching: while a batch runs, new sentences for the same hop queue
  up and go together into the next one; a lone request goes at once. A batch
  also waits (at most COALESCE_S) for texts still being segmented, so a burst
  from many rooms becomes one translate_batch call, not one small call for the
  first message and a big one for the rest.
- Whole sentences: protected spans go to the model as placeholders
  (segment.py); a sentence whose placeholders do not come back is translated
  piecewise in a second round, and counted (`fallbacks`, `on_fallback`).
- A cache serves identical sentences; identical in-flight ones are shared.
- nl<->de pivots through English when there is no direct package.
- Packages installed while the bot runs are picked up (`refresh_models`: a
  few stat calls, off the loop; app.py runs it every MODELS_CHECK_S, and a
  text with no model for its direction looks once more before giving up).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .engine import ArgosEngine, NoModel
from .langid import LanguageIdentifier
from .segment import Glossary, Part, Sentence, cut, piecewise, plan

__all__ = ["NoModel", "Translator"]
log = logging.getLogger(__name__)
T = TypeVar("T")
# A text's parts (kept text and sentences) and the distinct model inputs.
Segmented = tuple[list[Part], list[str]]
# Sentences handed to the batchers per turn of the event loop.
SLICE = 256
# How long a batch waits for texts that are still being segmented (a burst's
# segmentation takes a few ms per message; one inference takes 100s of ms).
COALESCE_S = 0.25


def _run_each(jobs: list[tuple[Callable[..., object], tuple[object, ...]]]) -> list[object]:
    """In the text thread: each job's result, or its exception (one text's
    failure is that text's, not the burst's)."""
    results: list[object] = []
    for fn, args in jobs:
        try:
            results.append(fn(*args))
        except Exception as exc:
            results.append(exc)
    return results


def _inputs(parts: list[Part]) -> list[str]:
    """The distinct model inputs of some parts, in order."""
    return list(dict.fromkeys(p.model_input for p in parts if isinstance(p, Sentence)))


class _HopBatcher:
    def __init__(self, translator: Translator, hop: tuple[str, str], max_batch: int):
        self.translator = translator
        self.hop = hop
        self.max_batch = max_batch
        self.pending: list[tuple[str, asyncio.Future]] = []
        self.running = False
        self.task: asyncio.Task | None = None

    def submit(self, sentence: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((sentence, future))
        if not self.running:
            self.running = True
            self.task = asyncio.get_running_loop().create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self.pending:
                if len(self.pending) < self.max_batch:
                    await self.translator._segmented(lambda: len(self.pending) >= self.max_batch)
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                unique = list(dict.fromkeys(s for s, _ in batch))
                try:
                    outputs = await self.translator._infer(self.translator.engine.translate_sentences, self.hop, unique)
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.translator.batches += 1
                result = dict(zip(unique, outputs, strict=False))
                for sentence, future in batch:
                    if not future.done():
                        future.set_result(result[sentence])
        finally:
            self.running = False


class Translator:
    def __init__(
        self,
        engine: ArgosEngine,
        identifier: LanguageIdentifier | None,
        glossary: Glossary | None = None,
        cache_size: int = 5000,
        max_batch: int = 64,
        max_chars: int = 4000,
        on_fallback: Callable[[int], object] | None = None,
    ):
        """`on_fallback(n)`: n sentences were translated piecewise (their
        placeholders did not come back): for /metrics."""
        self.engine = engine
        self.on_fallback = on_fallback
        self.fallbacks = 0  # sentences translated piecewise, for tests
        self.max_chars = max_chars
        self.identifier = identifier
        self.glossary = glossary
        self.cache_size = cache_size
        self.max_batch = max_batch
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._inflight: dict[tuple[str, str, str], asyncio.Future] = {}
        self._batchers: dict[tuple[str, str], _HopBatcher] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate")
        self._text_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment")
        # Texts in language id or segmentation whose sentences are not handed
        # to the batchers yet: a batch waits for them (COALESCE_S at most).
        self._segmenting = 0
        self._segmenting_done: asyncio.Event | None = None
        self._text_jobs: list[tuple[Callable[..., object], tuple[object, ...], asyncio.Future]] = []
        self._text_running = False
        self._text_task: asyncio.Task | None = None  # referenced: a task nobody holds may be collected
        self.batches = 0  # for tests and the benchmark

    async def _infer(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self, fn, *args):
        """Language id and segmentation: their own thread, never behind a batch."""
        return await asyncio.get_running_loop().run_in_executor(self._text_executor, fn, *args)

    async def _segmented(self, enough) -> None:
        """Wait until no text is being segmented (or `enough()`, or COALESCE_S)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + COALESCE_S
        while self._segmenting and not enough() and (left := deadline - loop.time()) > 0:
            if self._segmenting_done is None or self._segmenting_done.is_set():
                self._segmenting_done = asyncio.Event()
            try:
                await asyncio.wait_for(self._segmenting_done.wait(), left)
            except TimeoutError:
                return
            await asyncio.sleep(0)  # the texts just segmented submit their sentences

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._text_executor.shutdown(wait=False, cancel_futures=True)

    # ---- what is possible -------------------------------------------------------

    async def refresh_models(self) -> bool:
        """Load the packages installed or removed since the last look; True
        if anything changed. A few stat calls, in a thread."""
        changed = await asyncio.to_thread(self.engine.reload_if_changed)
        if changed:
            self._cache.clear()  # a replaced package translates differently
            log.info(
                "translation packages changed", extra={"installed": [f"{a}-{b}" for a, b in self.engine.installed()]}
            )
        return changed

    def can_translate(self, src: str, tgt: str) -> bool:
        return src != tgt and self.engine.route(src, tgt) is not None

    def has_models(self) -> bool:
        return bool(self.engine.installed())

    def cut(self, text: str) -> tuple[str, str]:
        """(what `translate` translates, the rest it leaves out). Cheap: it
        looks at no more than `max_chars` characters."""
        return cut(text, self.max_chars)

    async def detect(self, text: str) -> str | None:
        if self.identifier is None:
            return None
        # Counted as text work: a burst's translations wait for the texts still
        # in language id too (the plugin detects, then translates at once).
        self._segmenting += 1
        try:
            return await self._text_job(self.identifier.detect, self.cut(text)[0])
        finally:
            self._segmented_one()

    # ---- translating -------------------------------------------------------------

    async def translate(self, text: str, src: str, tgt: str) -> str:
        """The translation of `self.cut(text)[0]`; the rest is left out."""
        route = self.engine.route(src, tgt)
        if route is None and await self.refresh_models():  # installed a moment ago?
            route = self.engine.route(src, tgt)
        if route is None:
            raise NoModel(f"{src}->{tgt}")
        self._segmenting += 1
        try:
            parts, unique = await self._text_job(self._segment, self.cut(text)[0], route[0][0], tgt)
        except BaseException:
            self._segmented_one()
            raise
        done = await self._translate_all(unique, route, self._segmented_one)
        out: list[str | None] = [p if isinstance(p, str) else p.restore(done[p.model_input]) for p in parts]
        failed = [i for i, o in enumerate(out) if o is None]
        if failed:
            await self._piecewise([(i, parts[i]) for i in failed], out, route, tgt)
        return "".join(o or "" for o in out)

    async def _piecewise(
        self, failed: list[tuple[int, Part]], out: list[str | None], route: list[tuple[str, str]], tgt: str
    ) -> None:
        """The sentences whose placeholders the model lost or repeated,
        translated the old way: cut at every protected span."""
        self.fallbacks += len(failed)
        if self.on_fallback is not None:
            self.on_fallback(len(failed))
        sources = [p.source for _, p in failed if isinstance(p, Sentence)]
        pieces = await self._text_job(lambda: [piecewise(s, self.glossary, tgt) for s in sources])
        done = await self._translate_all(_inputs([p for sub in pieces for p in sub]), route, lambda: None)
        for (i, _), sub in zip(failed, pieces, strict=True):
            out[i] = "".join(p if isinstance(p, str) else p.restore(done[p.model_input]) or "" for p in sub)

    async def _text_job(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` (language id, segmentation) in the text thread; jobs
        that arrive together run in one hop, so a burst costs one thread
        round trip, not one per message."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._text_jobs.append((fn, args, future))
        if not self._text_running:
            self._text_running = True
            self._text_task = loop.create_task(self._drain_text_jobs())
        return await future

    async def _drain_text_jobs(self) -> None:
        try:
            while self._text_jobs:
                jobs, self._text_jobs = self._text_jobs, []
                try:
                    results = await self._run(_run_each, [(fn, args) for fn, args, _ in jobs])
                except Exception as exc:  # the executor itself failed (e.g. closed)
                    results = [exc] * len(jobs)
                for (_, _, future), result in zip(jobs, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._text_running = False

    def _segmented_one(self) -> None:
        self._segmenting -= 1
        if not self._segmenting and self._segmenting_done is not None:
            self._segmenting_done.set()

    def _segment(self, text: str, src: str, tgt: str) -> Segmented:
        """In the worker thread: the text as kept parts and sentences, and
        the distinct model inputs."""
        parts = plan(text, self.glossary, src, tgt)
        return parts, _inputs(parts)

    async def _translate_all(self, unique: list[str], route: list[tuple[str, str]], submitted) -> dict[str, str]:
        """Each sentence through the batchers. The tasks are set up SLICE at a
        time with a turn of the loop in between: a text with thousands of
        sentences must not hold the loop while they are handed out.
        `submitted()` is called once every sentence is handed out."""
        tasks: list[asyncio.Future] = []
        try:
            try:
                for i, sentence in enumerate(unique):
                    tasks.append(asyncio.ensure_future(self._translate_sentence(sentence, route)))
                    if i % SLICE == SLICE - 1:
                        await asyncio.sleep(0)
                await asyncio.sleep(0)  # the tasks reach their batcher
            finally:
                submitted()
            outs = await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        return dict(zip(unique, outs, strict=False))

    async def _translate_sentence(self, sentence: str, route: list[tuple[str, str]]) -> str:
        for hop in route:
            sentence = await self._hop(sentence, hop)
        return sentence

    async def _hop(self, sentence: str, hop: tuple[str, str]) -> str:
        key = (hop[0], hop[1], sentence)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key in self._inflight:
            return await asyncio.shield(self._inflight[key])
        batcher = self._batchers.get(hop)
        if batcher is None:
            batcher = self._batchers[hop] = _HopBatcher(self, hop, self.max_batch)
        future = batcher.submit(sentence)
        self._inflight[key] = future
        try:
            out = await future
        finally:
            self._inflight.pop(key, None)
        self._cache[key] = out
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out
