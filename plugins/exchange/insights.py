"""The exchange's part of the digest and of the working document (diabot/insights.py):

- `digest_lines`: open seeks and offers by others, new since `since`, that fit the member's own
  open requests (their profile's offers/seeks included: those are rows too), scored like matches;
- `report_rows`: seeks and offers per theme, resource type and side; matches made and
  introductions accepted per theme and resource. Names only of members who agreed to be listed.

Registered in plugin.py with `services.insights.register_digest/register_report("exchange", ...)`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.insights import ReportRow
from diabot.plugin import Services

from . import matching, store
from .introductions import INTRODUCED, Plain, candidate_tokens, features
from .models import OFFER, OPEN, SEEK, ExchangeItem, ExchangeMatch

MAX_LINES = 5


def _fitting(wanted: matching.Features, plain: list[tuple[int, Plain]]) -> list[tuple[int, matching.Score]]:
    """In a worker thread: the candidates that match, with their scores."""
    scored = [(i, matching.score(wanted, features(p))) for i, p in plain]
    return [(i, s) for i, s in scored if s.matches]


def _quote(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class ExchangeInsights:
    def __init__(self, services: Services):
        self.services = services

    async def digest_lines(self, session: AsyncSession, user_id: str, since: datetime, lang: str) -> list[str]:
        own = (
            await session.scalars(
                select(ExchangeItem).where(
                    ExchangeItem.author == user_id,
                    ExchangeItem.status == OPEN,
                    ExchangeItem.kind.in_((SEEK, OFFER)),
                )
            )
        ).all()
        if not own:
            return []
        # Per own request: the index's candidates recorded since the last digest, scored off the
        # event loop (as a new request is matched) — never every fresh row of the network.
        i18n = self.services.i18n
        best: dict[int, tuple[matching.Score, ExchangeItem]] = {}
        for mine in own:
            wanted = features(mine)
            ids = await store.search_ids(
                session,
                [candidate_tokens(wanted)],
                kinds=(OFFER if mine.kind == SEEK else SEEK,),
                limit=store.MAX_CANDIDATES,
                exclude_author=user_id,
                created_after=since,
            )
            found_items = {i.id: i for i in await store.items(session, ids)}
            plain = [(i, Plain.of(item)) for i, item in found_items.items()]
            for item_id, scored in await asyncio.to_thread(_fitting, wanted, plain):
                if item_id not in best or scored.score > best[item_id][0].score:
                    best[item_id] = (scored, found_items[item_id])
        found: list[tuple[float, str]] = []
        for top, item in best.values():
            number = i18n.number(lang, round(top.km)) if top.km is not None else None
            why = matching.explain(top.shared, top.km, lang, i18n.t(lang, "exchange.both"), number)
            line = i18n.t(lang, f"exchange.digest.{item.kind}", id=item.id, text=_quote(item.text), why=why)
            found.append((top.score, line))
        found.sort(key=lambda pair: -pair[0])
        return [line for _, line in found[:MAX_LINES]]

    async def report_rows(self, session: AsyncSession, theme: str | None) -> list[ReportRow]:
        query = select(ExchangeItem).where(ExchangeItem.status == OPEN, ExchangeItem.kind.in_((SEEK, OFFER)))
        if theme is not None:
            query = query.where(ExchangeItem.theme == theme)
        items = (await session.scalars(query)).all()
        listed = await self.services.privacy.listed(session, sorted({i.author for i in items if i.author}))
        groups: dict[tuple[str, str | None, str | None, str], list[str | None]] = defaultdict(list)
        for item in items:
            groups[(item.theme or "", item.resource, item.side, item.kind)].append(item.author)
        rows = [
            ReportRow(
                theme=key[0],
                resource=key[1],
                side=key[2],
                kind=key[3],
                count=len(authors),
                named=tuple(sorted({a for a in authors if a in listed})),
            )
            for key, authors in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0]))
        ]
        seeks = select(ExchangeMatch, ExchangeItem).join(ExchangeItem, ExchangeItem.id == ExchangeMatch.seek_id)
        if theme is not None:
            seeks = seeks.where(ExchangeItem.theme == theme)
        made: dict[tuple[str, str | None, str], int] = defaultdict(int)
        for match, seek in (await session.execute(seeks)).all():
            made[(seek.theme or "", seek.resource, "match")] += 1
            if match.state == INTRODUCED:
                made[(seek.theme or "", seek.resource, "introduction")] += 1
        rows.extend(
            ReportRow(theme=t, resource=r, side=None, kind=k, count=n)
            for (t, r, k), n in sorted(made.items(), key=lambda kv: tuple(str(k) for k in kv[0]))
        )
        return rows
