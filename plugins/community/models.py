from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from diabot.storage.models import Base, utcnow


class ThemeRoom(Base):
    """A themed room of the community space (the space itself has slug '_space')."""

    __tablename__ = "theme_rooms"
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255), unique=True)
    name_nl: Mapped[str] = mapped_column(String(255))
    name_de: Mapped[str] = mapped_column(String(255))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
