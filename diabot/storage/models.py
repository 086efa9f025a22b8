"""Core tables. Plugins declare theirs on the same `Base` in plugins/<x>/models.py.

Only what the runtime needs is stored: ids and timestamps, a user's chosen
language; no message text except what waits in the outbox to be sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names: Alembic batch mode on SQLite needs them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes even for timezone=True columns: they
    are UTC, say so before comparing in Python."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class HandledEvent(Base):
    """An event whose effects are committed. Written in the same transaction
    as those effects, so a crash either keeps both or neither."""

    __tablename__ = "handled_events"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class OutboxMessage(Base):
    """Something the bot means to send. Delivered in id order with `txn_id`
    as the Matrix transaction id, so a resend after a crash is deduplicated
    by the homeserver instead of showing up twice."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    event_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set once delivered (or given up); the row is then only a receipt.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    sent_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class KnownRoom(Base):
    """When the bot joined a room: events older than that are history and
    are never answered (e.g. old commands in a room it is invited into)."""

    __tablename__ = "known_rooms"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    joined_ts: Mapped[int] = mapped_column(BigInteger)  # origin_server_ts in ms
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)


class UserSetting(Base):
    __tablename__ = "user_settings"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ErasureLog(Base):
    """An erasure that was carried out: when, a salted hash of who, and why
    (request | inactivity | declined, see diabot.privacy.ErasureReason)."""

    __tablename__ = "erasure_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    subject_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16), default="request")


class KeyValue(Base):
    """Small runtime state, e.g. the sync token (saved after handling)."""

    __tablename__ = "kv"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DeferredEvent(Base):
    """An event a passive handler could not finish for a transient reason
    (homeserver 5xx, timeout): kept, with the platform-neutral event, and
    handled again later instead of being marked handled and lost."""

    __tablename__ = "deferred_events"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict] = mapped_column(JSON)  # the converted event, to rebuild it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SentEvent(Base):
    """The ledger: what the bot sent about what. One row per queued outbox
    message that belongs to something (a translation of a message, an
    introduction of a member, a poll, an event announcement), so edits,
    redactions and erasure can find it. The event id is the outbox row's."""

    __tablename__ = "sent_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(64))  # e.g. "translate.translation", "members.intro"
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)  # what it is about
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)  # whom it names
    detail: Mapped[str | None] = mapped_column(String(64), nullable=True)  # e.g. the target language
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoomIntent(Base):
    """A room the bot means to create, recorded before it is created (the
    intent) and completed with the room id (the result). The room carries
    the intent's key in its state from creation on, so a replay after a stop
    finds and reuses it instead of creating a second one."""

    __tablename__ = "room_intents"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)  # e.g. "community.space", "direct:@a:x"
    room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ThemeRoom(Base):
    """A room of the community (migration 0003): the space itself (slug '_space')
    or a themed room. A core table, read through diabot.directory.CommunityDirectory,
    so that no plugin imports another plugin's tables."""

    __tablename__ = "theme_rooms"
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), unique=True)
    name_nl: Mapped[str] = mapped_column(String(255))
    name_de: Mapped[str] = mapped_column(String(255))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
