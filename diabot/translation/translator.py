"""The async translation service plugins use.

- Never on the event loop: inference and language id run in one worker
  thread (CTranslate2 parallelises inside a batch).
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
from .segment import Glossary, sentences, split_pieces

__all__ = ["Translator", "NoModel"]


class _HopBatcher:
    def __init__(self, translator: "Translator", hop: tuple[str, str], max_batch: int):
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
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch:]
                unique = list(dict.fromkeys(s for s, _ in batch))
                try:
                    outputs = await self.translator._run(self.translator.engine.translate_sentences, self.hop, unique)
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.translator.batches += 1
                result = dict(zip(unique, outputs))
                for sentence, future in batch:
                    if not future.done():
                        future.set_result(result[sentence])
        finally:
            self.running = False


class Translator:
    def __init__(self, engine: ArgosEngine, identifier: LanguageIdentifier | None, glossary: Glossary | None = None,
                 cache_size: int = 5000, max_batch: int = 32):
        self.engine = engine
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

    async def detect(self, text: str) -> str | None:
        if self.identifier is None:
            return None
        return await self._run(self.identifier.detect, text)

    # ---- translating -------------------------------------------------------------

    async def translate(self, text: str, src: str, tgt: str) -> str:
        route = self.engine.route(src, tgt)
        if route is None:
            raise NoModel(f"{src}->{tgt}")
        pieces = split_pieces(text, self.glossary, tgt)
        jobs = [self._translate_run(p.text, route) if p.translate else None for p in pieces]
        results = await asyncio.gather(*(j for j in jobs if j is not None))
        it = iter(results)
        return "".join(next(it) if job is not None else piece.text for piece, job in zip(pieces, jobs))

    async def _translate_run(self, run: str, route: list[tuple[str, str]]) -> str:
        parts = sentences(run, route[0][0])
        outs = await asyncio.gather(*(self._translate_sentence(s.strip(), route) for s in parts))
        # Keep the whitespace pysbd left between sentences.
        return "".join(out + s[len(s.rstrip()):] if s.strip() else s for s, out in zip(parts, outs)).strip()

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
