"""Polls and the responses the bot has seen to them.

A response is kept as it came (its event id, sender, answer ids and time),
not as a running count: the tally is computed from these rows with the rules
clients use (plugins/polls/tally.py), so a late, replayed or rebuilt
response never counts twice. At the close the counts are frozen in
`Poll.result`; erasing a voter later deletes their rows, not the result.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow


class Poll(Base):
    __tablename__ = "polls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    creator: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)  # None once erased
    question: Mapped[str] = mapped_column(Text)
    answers: Mapped[list] = mapped_column(JSON)  # texts; answer id "n" is answers[n - 1]
    max_selections: Mapped[int] = mapped_column(Integer, default=1)
    disclosed: Mapped[bool] = mapped_column(Boolean, default=True)  # results visible while it runs
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who may vote; None: the room
    lang: Mapped[str] = mapped_column(String(8))  # the language it was asked in: its result speaks it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The end: responses after it do not count. Moved to the moment of an early close.
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # set once, by the close
    # Filled from the ledger once the outbox has sent them (responses and replies point at these).
    start_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    text_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # frozen at the close: counts and voters


class PollResponse(Base):
    __tablename__ = "poll_responses"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    voter: Mapped[str] = mapped_column(String(255), index=True)
    # The answer ids as sent; None: no readable answers at all (a spoiled vote).
    answers: Mapped[list | None] = mapped_column(JSON, nullable=True)
    ts: Mapped[int] = mapped_column(BigInteger)  # origin_server_ts, ms
    via: Mapped[str] = mapped_column(String(8))  # "poll" (a native response) | "reply" (numbers in a reply)
