"""Queries of the exchange's tables, and the full-text search on SQLite (FTS5) and PostgreSQL.

Both databases search the same `search` column (stemmed tokens, see text.py): SQLite through the
external-content FTS5 table `exchange_fts` (kept in step by triggers of the migration, in the
same transaction), PostgreSQL through `to_tsvector('simple', search)` (a GIN index). Ranking:
bm25 on SQLite, ts_rank on PostgreSQL; both OR the query's tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import KNOWLEDGE, OFFER, OPEN, SEEK, ExchangeItem, ExchangeMatch, ExchangePrompt

MAX_CANDIDATES = 300  # matching scores at most this many of the best full-text candidates
RANK_WINDOW = 2000  # SQLite: the newest hits that are ranked (see search_ids)


async def item(session: AsyncSession, item_id: int) -> ExchangeItem | None:
    return await session.get(ExchangeItem, item_id)


def _fts_query(groups: Sequence[Sequence[str]]) -> str:
    # FTS5 syntax: ("a" OR "b") AND ("c" OR "d"); tokens are letters and digits only.
    return " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in groups)


def _ts_query(groups: Sequence[Sequence[str]]) -> str:
    return " & ".join("(" + " | ".join(group) + ")" for group in groups)


async def search_ids(
    session: AsyncSession,
    groups: Sequence[Sequence[str]],
    *,
    kinds: Sequence[str],
    limit: int,
    exclude_author: str | None = None,
    created_after: datetime | None = None,
) -> list[int]:
    """Ids of open items of `kinds` that match every group (any token of it), best first.
    One group of tokens: any of them. `created_after`: only items recorded since (a digest)."""
    groups = [sorted({t for t in group if t}) for group in groups]
    groups = [g for g in groups if g]
    if not groups:
        return []
    params: dict[str, object] = {"limit": limit, "author": exclude_author or ""}
    kind_names = [f":k{i}" for i in range(len(kinds))]
    params.update({f"k{i}": k for i, k in enumerate(kinds)})
    where = f"i.status = 'open' AND i.kind IN ({', '.join(kind_names)}) AND COALESCE(i.author, '') != :author"
    if created_after is not None:
        # Through the column's own type: SQLite keeps these as text, written the way SQLAlchemy writes them.
        params["since"] = created_after.astimezone(UTC)
        where += " AND i.created_at > :since"
    if session.get_bind().dialect.name == "postgresql":
        params["q"] = _ts_query(groups)
        sql = (
            "SELECT i.id FROM exchange_items i "
            "WHERE to_tsvector('simple', i.search) @@ to_tsquery('simple', :q) AND " + where + " "
            "ORDER BY ts_rank(to_tsvector('simple', i.search), to_tsquery('simple', :q)) DESC, i.id DESC "
            "LIMIT :limit"
        )
    else:
        # The newest RANK_WINDOW hits are ranked (bm25), not every hit: a word as common as a theme
        # matches tens of thousands of rows, and ranking them all is what makes a search slow.
        params["q"], params["window"] = _fts_query(groups), RANK_WINDOW
        sql = (
            "SELECT i.id FROM (SELECT rowid AS rid, rank AS r FROM exchange_fts WHERE exchange_fts MATCH :q "
            "ORDER BY rowid DESC LIMIT :window) f JOIN exchange_items i ON i.id = f.rid "
            "WHERE " + where + " ORDER BY f.r, i.id DESC LIMIT :limit"
        )
    query = text(sql)
    if created_after is not None:
        query = query.bindparams(bindparam("since", type_=ExchangeItem.__table__.c.created_at.type))
    return [row[0] for row in (await session.execute(query, params)).all()]


async def items(session: AsyncSession, ids: Sequence[int]) -> list[ExchangeItem]:
    """The items of `ids`, in that order."""
    if not ids:
        return []
    found = {i.id: i for i in (await session.scalars(select(ExchangeItem).where(ExchangeItem.id.in_(ids)))).all()}
    return [found[i] for i in ids if i in found]


async def open_requests(session: AsyncSession, theme: str | None, limit: int = 30) -> list[ExchangeItem]:
    query = select(ExchangeItem).where(ExchangeItem.status == OPEN, ExchangeItem.kind.in_((SEEK, OFFER)))
    if theme is not None:
        query = query.where(ExchangeItem.theme == theme)
    return list((await session.scalars(query.order_by(ExchangeItem.id.desc()).limit(limit))).all())


async def mine(session: AsyncSession, user_id: str) -> list[ExchangeItem]:
    query = select(ExchangeItem).where(
        ExchangeItem.author == user_id, ExchangeItem.status.in_((OPEN, "pending")), ExchangeItem.kind != KNOWLEDGE
    )
    return list((await session.scalars(query.order_by(ExchangeItem.id))).all())


async def due_reminders(session: AsyncSession, before: datetime) -> list[ExchangeItem]:
    query = select(ExchangeItem).where(
        ExchangeItem.status == OPEN,
        ExchangeItem.expires_at.is_not(None),
        ExchangeItem.expires_at <= before,
        ExchangeItem.reminded_at.is_(None),
    )
    return list((await session.scalars(query.order_by(ExchangeItem.id))).all())


async def expired(session: AsyncSession, now: datetime) -> list[ExchangeItem]:
    query = select(ExchangeItem).where(
        ExchangeItem.status.in_((OPEN, "pending")),
        ExchangeItem.expires_at.is_not(None),
        ExchangeItem.expires_at <= now,
    )
    return list((await session.scalars(query)).all())


async def unindexed(session: AsyncSession) -> list[ExchangeItem]:
    """Rows the migration made from profiles (no search tokens yet)."""
    query = select(ExchangeItem).where(ExchangeItem.search == "", ExchangeItem.origin == "profile")
    return list((await session.scalars(query)).all())


async def match(session: AsyncSession, match_id: int) -> ExchangeMatch | None:
    return await session.get(ExchangeMatch, match_id)


async def matches_for(session: AsyncSession, user_id: str) -> list[ExchangeMatch]:
    """Current suggestions to, and introductions asked of, `user_id`."""
    query = select(ExchangeMatch).where(
        or_(ExchangeMatch.suggested_to == user_id, ExchangeMatch.other == user_id),
        ExchangeMatch.state.in_(("suggested", "asked", "introduced")),
    )
    return list((await session.scalars(query.order_by(ExchangeMatch.score.desc(), ExchangeMatch.id))).all())


async def prompt(session: AsyncSession, user_id: str) -> ExchangePrompt | None:
    return await session.get(ExchangePrompt, user_id)


async def set_prompt(session: AsyncSession, user_id: str, room_id: str, kind: str, refs: list[int]) -> None:
    """The one question the bot waits for `user_id` to answer (a newer one replaces it)."""
    row = await session.get(ExchangePrompt, user_id)
    if row is None:
        session.add(ExchangePrompt(user_id=user_id, room_id=room_id, kind=kind, refs=refs))
    else:
        row.room_id, row.kind, row.refs = room_id, kind, refs


async def clear_prompt(session: AsyncSession, user_id: str) -> None:
    row = await session.get(ExchangePrompt, user_id)
    if row is not None:
        await session.delete(row)


async def matches_of_item(session: AsyncSession, item_id: int) -> list[ExchangeMatch]:
    query = select(ExchangeMatch).where(or_(ExchangeMatch.seek_id == item_id, ExchangeMatch.offer_id == item_id))
    return list((await session.scalars(query)).all())


async def last_lang(session: AsyncSession, user_id: str) -> str | None:
    """The language of the member's latest request: a bare "1" or "ja" has none of its own."""
    query = select(ExchangeItem.lang).where(ExchangeItem.author == user_id, ExchangeItem.lang.is_not(None))
    return await session.scalar(query.order_by(ExchangeItem.id.desc()).limit(1))
