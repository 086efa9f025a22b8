"""The digest's tables: the truth about who gets what when (jobs are rebuilt from them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow

DAILY = "daily"
WEEKLY = "weekly"
OFF = "off"


class DigestSetting(Base):
    """One member. `chosen` False: the default (weekly) given to a member with a profile;
    `next_at` moves on in the transaction that sends, so a digest goes out once."""

    __tablename__ = "digest_settings"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8))  # daily | weekly | off
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    since_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # the next one covers from here
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DigestRoom(Base):
    """A themed room's weekly digest (a moderator's switch)."""

    __tablename__ = "digest_rooms"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    theme: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    since_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
