"""Recording seeks, offers and knowledge: what a request is about (concepts, resource type,
theme, language, side of the border, place), the numbered resource question when the text does
not say, pins (📌) and renewals.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Message
from diabot.formatting import Markdown
from diabot.plugin import Services
from diabot.resource_types import RESOURCES

from . import store
from .models import KNOWLEDGE, OPEN, PENDING, ExchangeItem
from .places import find_place
from .taxonomy import LANGS, taxonomy
from .text import concepts_of, resource_of, search_text, side_of_user, split_tags


def permalink(room_id: str, event_id: str) -> str:
    return f"https://matrix.to/#/{room_id}/{event_id}"


async def profile_facts(session: AsyncSession, user_id: str) -> tuple[str | None, str | None]:
    """(side, town) a member stated in onboarding, read from the core-migrated `profiles` table
    (the exchange never imports the members plugin; the table exists whatever is enabled)."""
    row = (await session.execute(text("SELECT side, town FROM profiles WHERE user_id = :u"), {"u": user_id})).first()
    if row is None:
        return None, None
    side, town = row
    return (side if side in ("nl", "de") else None), town


class Recorder:
    def __init__(self, services: Services, expiry_days: int):
        self.services = services
        self.expiry = timedelta(days=expiry_days)

    def now(self) -> datetime:
        return self.services.scheduler.now()

    async def language(self, body: str, fallback: str) -> str:
        translator = self.services.translator
        if translator is not None:
            found = await translator.detect(body)
            if found in LANGS:
                return found
        return fallback

    def theme(self, room_id: str, tags: list[str], concepts: set[str]) -> str | None:
        """#tag > the room's theme > the one theme the concepts belong to."""
        directory = self.services.directory
        for tag in tags:
            found = directory.find(tag)
            if found is not None:
                return found.slug
        in_room = directory.theme_of(room_id)
        if in_room is not None and in_room.slug != "welcome":
            return in_room.slug
        themes = taxonomy().themes_of(concepts)
        return next(iter(themes)) if len(themes) == 1 else None

    async def describe(self, ctx: Context, kind: str, raw: str) -> ExchangeItem:
        body, tags = split_tags(raw)
        if not body:
            raise UsageError("exchange.error.empty")
        lang = await self.language(body, ctx.lang)
        concepts = await asyncio.to_thread(concepts_of, body, lang)
        side, town = await profile_facts(ctx.session, ctx.sender)
        place = find_place(body)
        return ExchangeItem(
            kind=kind,
            status=OPEN,
            author=ctx.sender,
            text=body,
            theme=self.theme(ctx.room_id, tags, concepts),
            room_id=ctx.room_id,
            lang=lang,
            side=side_of_user(ctx.sender) or side,
            town=place.name if place is not None else town,
            concepts=sorted(concepts),
            search=search_text(body, concepts),
            origin="command",
            created_at=self.now(),
        )

    async def request(self, ctx: Context, kind: str, raw: str) -> ExchangeItem:
        """A seek or an offer; "pending" until its resource type is known."""
        item = await self.describe(ctx, kind, raw)
        item.resource = resource_of(item.concepts)
        item.status = OPEN if item.resource else PENDING
        item.expires_at = self.now() + self.expiry
        ctx.session.add(item)
        await ctx.session.flush()
        if item.resource is None:
            lines = (f"{n}. {ctx.t(f'exchange.resource.{key}')}" for n, key in enumerate(RESOURCES, 1))
            choices = Markdown("\n".join(lines))  # the catalog's own texts: no escaping
            ctx.reply("exchange.ask_resource", id=item.id, choices=choices)
            await store.set_prompt(ctx.session, ctx.sender, ctx.room_id, "resource", [item.id])
        return item

    async def knowledge(self, ctx: Context, raw: str) -> ExchangeItem:
        item = await self.describe(ctx, KNOWLEDGE, raw)
        words = item.text.split()
        item.url = next((w for w in words if w.startswith(("https://", "http://"))), None)
        item.origin = "share"
        ctx.session.add(item)
        await ctx.session.flush()
        return item

    async def pin(self, ctx: Context, message: Message, pinned_by: str) -> ExchangeItem | None:
        """A message saved as knowledge (with its permalink), once; None if it was saved before."""
        link = permalink(message.room_id, message.event_id)
        existing = await ctx.session.scalar(select(ExchangeItem.id).where(ExchangeItem.url == link))
        if existing is not None:
            return None
        lang = await self.language(message.body, ctx.lang)
        concepts = await asyncio.to_thread(concepts_of, message.body, lang)
        item = ExchangeItem(
            kind=KNOWLEDGE,
            status=OPEN,
            author=message.sender,
            text=message.body,
            url=link,
            theme=self.theme(message.room_id, [], concepts),
            room_id=message.room_id,
            lang=lang,
            side=side_of_user(message.sender),
            concepts=sorted(concepts),
            search=search_text(message.body, concepts),
            origin="pin",
            pinned_by=pinned_by,
            created_at=self.now(),
        )
        ctx.session.add(item)
        await ctx.session.flush()
        return item

    def renew(self, item: ExchangeItem) -> None:
        item.expires_at = self.now() + self.expiry
        item.reminded_at = None
        item.status = OPEN if item.resource else PENDING

    async def index_profiles(self, session: AsyncSession) -> int:
        """Fill in the concepts and search tokens of the rows migrated from profiles."""
        rows = await store.unindexed(session)
        for row in rows:
            # A Dutch profile is most likely written in Dutch (and a German one in German): a guess
            # that lets homographs like nl "lassen" count, which an unknown language would not.
            concepts = concepts_of(row.text, row.side)
            row.concepts = sorted(concepts)
            label = " ".join(taxonomy().label(row.resource, lang) for lang in LANGS) if row.resource else ""
            row.search = search_text(f"{row.text} {label}", concepts) or "-"
        return len(rows)
