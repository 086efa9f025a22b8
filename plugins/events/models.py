"""Events, answers (RSVPs), reminders, personal calendar tokens and the
creation dialogue's state. Times are stored in UTC; the community's zone is
applied when they are shown or put into a calendar."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow

SCHEDULED = "scheduled"
CANCELLED = "cancelled"


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # what members type: #12
    uid: Mapped[str] = mapped_column(String(255), unique=True)  # iCalendar UID, never changes
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str | None] = mapped_column(String(300), nullable=True)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    theme: Mapped[str] = mapped_column(String(64), index=True)  # slug
    room_id: Mapped[str] = mapped_column(String(255))  # where it is announced
    languages: Mapped[str] = mapped_column(String(16))  # of the announcement: "nl,de" in a cross-border room
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    organiser: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)  # None once erased
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE: +1 per change
    announcement_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # The counts changed since the announcement was last edited (edits are throttled).
    counts_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    counts_edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Rsvp(Base):
    """One member's answer; a "yes" beyond the capacity waits (waitlisted) in
    the order of `yes_at`."""

    __tablename__ = "event_rsvps"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    answer: Mapped[str] = mapped_column(String(8))  # yes | maybe | no
    waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    yes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The reaction that gave the answer: redacting it takes the answer back.
    reaction_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)


class Reminder(Base):
    """One reminder of one event. `sent_at` is set in the transaction that
    queues its messages, so it goes out once, also across restarts."""

    __tablename__ = "event_reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    offset_s: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # too late


class CalendarToken(Base):
    """A member's secret feed address; a new one (!calendar reset) replaces it."""

    __tablename__ = "calendar_tokens"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventDraft(Base):
    """The creation dialogue in a member's DM, so a restart continues it."""

    __tablename__ = "event_drafts"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))  # the DM it runs in
    step: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
