"""`!find`: every word of the query (in any of its stemmed forms or the concepts it names) must
match; when that finds nothing, any word of the query or of its translations does, with the
concepts of the whole query (phrases such as "trade fair"). Both steps use the one index
(store.search_ids). Requiring every word first keeps a search fast on a large table: a word as
common as "bedrijf" alone would match a third of it and every hit would have to be ranked."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from . import store
from .models import KNOWLEDGE, OFFER, SEEK
from .text import concepts_of, query_tokens, word_groups

KINDS = (SEEK, OFFER, KNOWLEDGE)


async def find_ids(session: AsyncSession, words: str, translations: Sequence[str], limit: int) -> list[int]:
    groups = await asyncio.to_thread(word_groups, words)
    ids = await store.search_ids(session, groups, kinds=KINDS, limit=limit)
    if ids:
        return ids
    tokens: set[str] = set()
    for query in [words, *translations]:
        concepts = await asyncio.to_thread(concepts_of, query, None)
        tokens.update(query_tokens(query, concepts))
    return await store.search_ids(session, [sorted(tokens)], kinds=KINDS, limit=limit)
