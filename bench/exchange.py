"""The exchange at size, on SQLite: 100,000 requests and knowledge items (synthetic texts built
from the taxonomy's own words in nl/de/en), then

- `!find`: one to three words (the taxonomy's labels), as plugins/exchange/search.py runs it;
- matching a new request: the full-text candidates (its specific concepts, at most 300) read and
  scored in a worker thread, the top three kept — `Introductions.candidates`, as `!seek` runs it.

- the digest: every registered provider (exchange, events, polls, members) and the composed
  message for 700 members, as the digest job builds them (sending not included);
- the working document: the report rows, Markdown, CSV and the PNG chart, as `!report` makes them.

    .venv/bin/python bench/exchange.py [--items 100000] [--n 200] [--postgres]

`--postgres` repeats `!find` and matching on a PostgreSQL of its own (Debian's package, started on
127.0.0.1 for the run), where the same column is searched with `to_tsvector('simple', search)` and
a GIN index. The goals of the issue (SQLite, this machine): `!find` p95 < 30 ms, matching p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from diabot.sending import Sender  # noqa: E402
from diabot.storage import Database  # noqa: E402
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


async def load(db: Database, items: int, analysed: list[tuple[str, str, list[str], str]]) -> float:
    started = time.perf_counter()
    rows = []
    for i in range(items):
        lang, body, listed, tokens = analysed[i % len(analysed)]
        kind = ("seek", "offer", "knowledge")[i % 3]
        rows.append(
            {
                "kind": kind,
                "status": "open",
                "author": f"@user{i % 50_000}:x",  # 50,000 authors: each of the 700 digest readers owns two
                "text": body,
                "lang": lang,
                "concepts": listed,
                "search": tokens,
                "origin": "command",
                "town": TOWNS[i % len(TOWNS)],
                "created_at": utcnow(),
            }
        )
    async with db.transaction() as session:
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(ExchangeItem), rows[chunk : chunk + 5000])
    return time.perf_counter() - started


async def find_and_match(bot: TestBot, db: Database, queries: list[str], new_texts: list[tuple[str, str]]):
    find_ms, match_ms, hits = [], [], []
    introductions = Introductions(bot.services)
    async with db.sessions() as session:
        for query in queries:
            t0 = time.perf_counter()
            ids = await search.find_ids(session, query, (), limit=8)
            await store.items(session, ids)
            find_ms.append((time.perf_counter() - t0) * 1000)
            hits.append(len(ids))
        sender = Sender(bot.services, session, "nl", [])
        for lang, body in new_texts:
            t0 = time.perf_counter()
            concepts = concepts_of(body, lang)
            new = ExchangeItem(
                kind="seek", text=body, concepts=sorted(concepts), author="@new:x", search=search_text(body, concepts)
            )
            await introductions.candidates(sender, new)
            match_ms.append((time.perf_counter() - t0) * 1000)
    return find_ms, match_ms, hits


async def digest_and_report(bot: TestBot) -> tuple[list[float], float, float]:
    """Per member: the digest as the job composes it; then the whole working document once."""
    from plugins.digest.chart import render_png
    from plugins.digest.report import Report, report_csv, report_markdown

    digest = bot.plugin("digest")
    now = bot.clock()
    since = now - timedelta(days=7)
    per_member = []
    async with bot.db.sessions() as session:
        for i in range(700):
            t0 = time.perf_counter()
            await digest.member_markdown(session, f"@user{i}:x", since, ("nl", "de")[i % 2], now)
            per_member.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        data = Report.of(await bot.services.insights.report(session, None))
        report_markdown(bot.i18n, data, "all", "2026-11-25 12:00")
        report_csv(data)
        labels = {f"{k}.{s}": f"{k} {s}" for k in ("seek", "offer") for s in ("nl", "de")}
        t1 = time.perf_counter()
        await asyncio.to_thread(render_png, data, "bench", labels)  # first chart: imports matplotlib too
        first_png = time.perf_counter() - t1
    return per_member, (t1 - t0) * 1000, first_png * 1000


def row(name: str, values: list[float]) -> str:
    return f"{name:<40}{statistics.median(values):>10.1f}{pct(values, 0.95):>10.1f}"


async def main(items: int, n: int, postgres: bool) -> None:
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
    bot = await TestBot.start(tmp, plugins=["core", "members", "events", "polls", "exchange", "digest"])
    # 2,000 distinct texts, reused: analysing 100,000 texts would only measure the taxonomy.
    analysed = []
    for lang, body in texts(2000, rng):
        found = concepts_of(body, lang)
        analysed.append((lang, body, sorted(found), search_text(body, found)))
    load_s = await load(bot.db, items, analysed)

    tax = taxonomy()
    labels = [tax.label(cid, lang) for cid in tax.concepts for lang in LANGS]
    # What members type into !find: one to three words.
    queries = [" ".join(rng.sample(labels, rng.choice((1, 1, 2, 3)))) for _ in range(n)]
    new_texts = texts(n, rng)
    results = {"SQLite": await find_and_match(bot, bot.db, queries, new_texts)}
    per_member, report_ms, png_ms = await digest_and_report(bot)
    if postgres:
        from devtools.ports import free_port
        from devtools.postgres import PostgresServer, ensure_postgres_installed

        ensure_postgres_installed()
        with PostgresServer(tmp / "pg", port=free_port()) as server:
            db = Database(server.create_database("bench"))
            await db.migrate()
            await load(db, items, analysed)
            results["PostgreSQL"] = await find_and_match(bot, db, queries, new_texts)
            await db.close()
    await bot.stop()
    print(f"exchange: {items:,} items (SQLite load {load_s:.1f} s); {n} queries and {n} new seeks per database")
    print(f"{'case':<40}{'p50 ms':>10}{'p95 ms':>10}")
    for name, (find_ms, match_ms, hits) in results.items():
        print(row(f"!find, {name} (mean {statistics.mean(hits):.1f} hits)", find_ms))
        print(row(f"matching a new seek, {name}", match_ms))
    print(row("digest for one member (of 700)", per_member))
    print(f"{'digest for all 700 members':<40}{sum(per_member) / 1000:>9.2f}s")
    print(f"{'report: rows, Markdown, CSV':<40}{report_ms:>9.1f}ms")
    print(f"{'report: PNG chart (first, with import)':<40}{png_ms:>9.1f}ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.items, args.n, args.postgres))
