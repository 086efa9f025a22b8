"""The async translation service plugins use.

- Never on the event loop: inference, language id and segmentation (protected
  spans, sentences) run in one worker thread (CTranslate2 parallelises inside
  a batch); the loop only hands out sentences and joins the results.
- Bounded: only the first `max_chars` of a text are looked at (`cut` says
  where the rest begins, so callers can say it was not translated).
- Micro-batching: while a batch runs, new sentences for the same hop queue
  up and go together into the next one; a lone request goes at once.
- A cache serves identical sentences; identical in-flight ones are shared.
- nl<->de pivots through English when there is no direct package.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from .engine import ArgosEngine, NoModel
from .langid import LanguageIdentifier
from .segment import Glossary, cut, sentences, split_pieces

__all__ = ["NoModel", "Translator"]
# Sentences handed to the batchers per turn of the event loop.
SLICE = 256


def _join(parts: list[str], done: dict[str, str]) -> str:
    """The translated sentences of one run, with the whitespace pysbd left
    between them."""
    return "".join(done[s.strip()] + s[len(s.rstrip()) :] if s.strip() else s for s in parts).strip()


class _HopBatcher:
    def __init__(self, translator: Translator, hop: tuple[str, str], max_batch: int):
        self.translator = translator
        self.hop = hop
        self.max_batch = max_batch
        self.pending: list[tuple[str, asyncio.Future]] = []
        self.running = False

    def submit(self, sentence: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((sentence, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                unique = list(dict.fromkeys(s for s, _ in batch))
                try:
                    outputs = await self.translator._run(self.translator.engine.translate_sentences, self.hop, unique)
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
        max_batch: int = 32,
        max_chars: int = 4000,
    ):
        self.engine = engine
        self.max_chars = max_chars
        self.identifier = identifier
        self.glossary = glossary
        self.cache_size = cache_size
        self.max_batch = max_batch
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._inflight: dict[tuple[str, str, str], asyncio.Future] = {}
        self._batchers: dict[tuple[str, str], _HopBatcher] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate")
        self.batches = 0  # for tests and the benchmark

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- what is possible -------------------------------------------------------

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
        return await self._run(self.identifier.detect, self.cut(text)[0])

    # ---- translating -------------------------------------------------------------

    async def translate(self, text: str, src: str, tgt: str) -> str:
        """The translation of `self.cut(text)[0]`; the rest is left out."""
        route = self.engine.route(src, tgt)
        if route is None:
            raise NoModel(f"{src}->{tgt}")
        plan, unique = await self._run(self._segment, self.cut(text)[0], route[0][0], tgt)
        done = await self._translate_all(unique, route)
        return "".join(piece if parts is None else _join(parts, done) for piece, parts in plan)

    def _segment(self, text: str, src: str, tgt: str) -> tuple[list[tuple[str, list[str] | None]], list[str]]:
        """In the worker thread: the pieces of the text, with the sentences of
        each translatable one (None: keep the piece as it is), and the
        distinct sentences to translate."""
        plan = [
            (p.text, sentences(p.text, src) if p.translate else None) for p in split_pieces(text, self.glossary, tgt)
        ]
        unique = list(dict.fromkeys(s.strip() for _, parts in plan if parts for s in parts if s.strip()))
        return plan, unique

    async def _translate_all(self, unique: list[str], route: list[tuple[str, str]]) -> dict[str, str]:
        """Each sentence through the batchers. The tasks are set up SLICE at a
        time with a turn of the loop in between: a text with thousands of
        sentences must not hold the loop while they are handed out."""
        tasks: list[asyncio.Future] = []
        try:
            for i, sentence in enumerate(unique):
                tasks.append(asyncio.ensure_future(self._translate_sentence(sentence, route)))
                if i % SLICE == SLICE - 1:
                    await asyncio.sleep(0)
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
