"""Member profiles, the onboarding dialogue and the bot's direct chats.

Only what the features need: no e-mail, no phone, no personal name beyond
the Matrix display name; a profile exists only with consent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow


class Profile(Base):
    __tablename__ = "profiles"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    town: Mapped[str | None] = mapped_column(String(100), nullable=True)
    side: Mapped[str | None] = mapped_column(String(2), nullable=True)  # nl | de
    sector: Mapped[str | None] = mapped_column(String(200), nullable=True)
    themes: Mapped[list] = mapped_column(JSON, default=list)
    offers: Mapped[list] = mapped_column(JSON, default=list)  # resource type keys
    seeks: Mapped[list] = mapped_column(JSON, default=list)
    listed: Mapped[bool] = mapped_column(Boolean, default=False)  # shown by !members
    consent_version: Mapped[int] = mapped_column(Integer)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Onboarding(Base):
    """Dialogue state, persisted so a restart continues where it was."""

    __tablename__ = "onboarding"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    dm_room_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16))  # invited | active | done | declined | stopped
    step: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
