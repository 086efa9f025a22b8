"""Tables of the translation feature. Message text is stored only while a
translation job waits (deleted when it is done)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow


class TranslateRoom(Base):
    __tablename__ = "translate_rooms"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))  # auto | reactions | off


class TranslateUser(Base):
    __tablename__ = "translate_users"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    translate_mine: Mapped[bool] = mapped_column(Boolean, default=True)


class TranslationJob(Base):
    """Durable work: written in the event's transaction, done by the worker,
    so a crash between the two loses nothing."""

    __tablename__ = "translation_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # auto | edit | reaction | command
    room_id: Mapped[str] = mapped_column(String(255))
    source_event_id: Mapped[str] = mapped_column(String(255), index=True)  # the message to translate
    reply_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the command, if any
    thread_root: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sender: Mapped[str] = mapped_column(String(255))  # author of the message
    requester: Mapped[str | None] = mapped_column(String(255), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: fetch the event
    targets: Mapped[list] = mapped_column(JSON)  # [] = decide from the detected language
    lang: Mapped[str] = mapped_column(String(8))  # answer language for notes
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
