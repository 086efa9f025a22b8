"""The exchange at size, on SQLite: 100,000 requests and knowledge items (synthetic texts built
from the taxonomy's own words in nl/de/en), then

- `!find`: one to three words (the taxonomy's labels), as plugins/exchange/search.py runs it;
- matching a new request: the full-text candidates (its specific concepts, at most 300) read and
  scored in a worker thread, the top three kept — `Introductions.candidates`, as `!seek` runs it.

    .venv/bin/python bench/exchange.py [--items 100000] [--n 200]

PostgreSQL is not measured here (no server in this run); the same column is searched there with
`to_tsvector('simple', search)` and a GIN index.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from diabot.sending import Sender  # noqa: E402
from diabot.storage.models import utcnow  # noqa: E402
from diabot.testing import TestBot  # noqa: E402
from plugins.exchange import search, store  # noqa: E402
from plugins.exchange.introductions import Introductions  # noqa: E402
from plugins.exchange.models import ExchangeItem  # noqa: E402
from plugins.exchange.taxonomy import LANGS, taxonomy  # noqa: E402
from plugins.exchange.text import concepts_of, search_text  # noqa: E402

FILLER = {
    "nl": ["wij zoeken", "wij bieden", "per direct", "in de regio", "voor ons bedrijf"],
    "de": ["wir suchen", "wir bieten", "ab sofort", "in der Region", "für unser Unternehmen"],
    "en": ["we seek", "we offer", "right away", "in the region", "for our company"],
}
TOWNS = ["Emmen", "Meppen", "Lingen", "Coevorden", "Nordhorn", "Assen", "Papenburg", None]


def texts(count: int, rng: random.Random) -> list[tuple[str, str]]:
    tax = taxonomy()
    words = {lang: [w.lstrip("=") for c in tax.concepts.values() for w in c.words[lang]] for lang in LANGS}
    out = []
    for _ in range(count):
        lang = rng.choice(LANGS)
        picked = rng.sample(words[lang], 3)
        out.append((lang, f"{rng.choice(FILLER[lang])} {' '.join(picked)} {rng.choice(FILLER[lang])}"))
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def main(items: int, n: int) -> None:
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
    bot = await TestBot.start(tmp, plugins=["core", "exchange"])
    started = time.perf_counter()
    # 2,000 distinct texts, reused: analysing 100,000 texts would only measure the taxonomy.
    unique = texts(2000, rng)
    analysed = []
    for lang, body in unique:
        found = concepts_of(body, lang)
        analysed.append((lang, body, sorted(found), search_text(body, found)))
    rows = []
    for i in range(items):
        lang, body, listed, tokens = analysed[i % len(analysed)]
        kind = ("seek", "offer", "knowledge")[i % 3]
        rows.append(
            {
                "kind": kind,
                "status": "open",
                "author": f"@user{i % 700}:x",
                "text": body,
                "lang": lang,
                "concepts": listed,
                "search": tokens,
                "origin": "command",
                "town": TOWNS[i % len(TOWNS)],
                "created_at": utcnow(),
            }
        )
    async with bot.db.transaction() as session:
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(ExchangeItem), rows[chunk : chunk + 5000])
    load_s = time.perf_counter() - started

    tax = taxonomy()
    labels = [tax.label(cid, lang) for cid in tax.concepts for lang in LANGS]
    # What members type into !find: one to three words.
    queries = [" ".join(rng.sample(labels, rng.choice((1, 1, 2, 3)))) for _ in range(n)]
    find_ms, match_ms, hits = [], [], []
    introductions = Introductions(bot.services)
    async with bot.db.sessions() as session:
        for query in queries:
            t0 = time.perf_counter()
            ids = await search.find_ids(session, query, (), limit=8)
            await store.items(session, ids)
            find_ms.append((time.perf_counter() - t0) * 1000)
            hits.append(len(ids))
        sender = Sender(bot.services, session, "nl", [])
        for lang, body in texts(n, rng):
            t0 = time.perf_counter()
            concepts = concepts_of(body, lang)
            new = ExchangeItem(
                kind="seek", text=body, concepts=sorted(concepts), author="@new:x", search=search_text(body, concepts)
            )
            await introductions.candidates(sender, new)
            match_ms.append((time.perf_counter() - t0) * 1000)
    await bot.stop()
    print(f"exchange on SQLite: {items:,} items loaded in {load_s:.1f} s; {n} queries each")
    print(f"{'case':<34}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'!find (8 hits, ranked)':<34}{statistics.median(find_ms):>10.1f}{pct(find_ms, 0.95):>10.1f}")
    print(f"{'matching a new seek (≤300 cand.)':<34}{statistics.median(match_ms):>10.1f}{pct(match_ms, 0.95):>10.1f}")
    print(f"mean hits per !find: {statistics.mean(hits):.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.items, args.n))
