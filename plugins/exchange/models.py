"""What the exchange stores: requests (seeks and offers) and knowledge items in one table, the
matches suggested between a seek and an offer, and the one question the bot waits for an answer
to per member (a resource type, a pick among suggestions, a yes/no to an introduction).

One table for requests and knowledge: `!find` searches both with one full-text index, and a
profile's offers/seeks (migrated, origin "profile") are rows like any other. `search` holds the
stemmed tokens of the text in all three languages plus concept tokens (see text.py): the
SQLite FTS5 table `exchange_fts` and PostgreSQL's `to_tsvector('simple', search)` index it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow

SEEK, OFFER, KNOWLEDGE = "seek", "offer", "knowledge"
# Status of an item: "pending" waits for its resource type (the numbered question), then "open";
# "closed" by its author or a moderator, "expired" when its time ran out.
PENDING, OPEN, CLOSED, EXPIRED = "pending", "open", "closed", "expired"


class ExchangeItem(Base):
    __tablename__ = "exchange_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # seek | offer | knowledge
    status: Mapped[str] = mapped_column(String(16), index=True, default=OPEN)
    author: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)  # a shared link or a pin's permalink
    resource: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    theme: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    side: Mapped[str | None] = mapped_column(String(2), nullable=True)  # nl | de | None (unknown)
    town: Mapped[str | None] = mapped_column(String(100), nullable=True)  # a place the text or profile names
    concepts: Mapped[list] = mapped_column(JSON, default=list)  # taxonomy ids found in the text
    search: Mapped[str] = mapped_column(Text, default="")  # stemmed tokens, nl+de+en, and concept tokens
    origin: Mapped[str] = mapped_column(String(16), default="command")  # command | profile | share | pin
    pinned_by: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExchangeMatch(Base):
    """A seek and an offer that fit, suggested to `suggested_to` (the author of the newer one).

    state: suggested -> asked (the member picked it; the other side is asked) -> introduced
    (the other side said yes; the room exists) | declined."""

    __tablename__ = "exchange_matches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seek_id: Mapped[int] = mapped_column(ForeignKey("exchange_items.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("exchange_items.id", ondelete="CASCADE"), index=True)
    suggested_to: Mapped[str] = mapped_column(String(255), index=True)
    other: Mapped[str] = mapped_column(String(255), index=True)  # the other item's author
    score: Mapped[float] = mapped_column(Float)
    shared: Mapped[list] = mapped_column(JSON, default=list)  # concept ids, for the explanation
    km: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="suggested", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ExchangePrompt(Base):
    """The question the bot waits for a member to answer in `room_id` (the next message there).

    kind: "resource" (refs = [item id]), "pick" (refs = match ids, in the order shown),
    "consent" (refs = [match id])."""

    __tablename__ = "exchange_prompts"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    refs: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
