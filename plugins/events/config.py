"""The events plugin's settings (plugins.events in the YAML)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator

from diabot.plugin import PluginConfig

_PART = re.compile(r"(\d+)\s*([dhms])")
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def offset_seconds(text: str) -> int:
    """ "1d", "1h", "90m", "1h30m", "45s" -> seconds; ValueError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration like 1d, 1h, 30m or 1h30m")
    return sum(int(n) * _UNIT_S[u] for n, u in parts)


class EventsConfig(PluginConfig):
    # Length of an event when the organiser gives none.
    default_duration_min: int = Field(default=120, ge=5, le=7 * 24 * 60)
    # Reminders before the start, to the announcement's thread and by DM to those who said yes.
    reminders: list[str] = Field(default_factory=lambda: ["1d", "1h"])
    # The theme (slug) an event goes to when none is given and the command was typed outside a themed room.
    default_theme: str | None = "events"
    # The address members' calendars use to reach the bot's web server (e.g. https://bot.example.org,
    # behind a reverse proxy); empty: http://<web.host>:<web.port>.
    feed_url: str | None = None
    # Feeds keep events this many days after they ended (calendars then keep them too).
    feed_past_days: int = Field(default=60, ge=0)
    # A creation dialogue nobody answered for this long is dropped.
    dialogue_timeout_min: int = Field(default=30, ge=1)
    # The announcement's counts are edited at most once per this many seconds per event.
    edit_interval_s: int = Field(default=10, ge=1)
    # Public holidays to warn about: ISO country, optionally with a subdivision (DE-NI = Lower Saxony).
    holiday_regions: list[str] = Field(default_factory=lambda: ["NL", "DE-NI"])

    @field_validator("reminders")
    @classmethod
    def _valid_offsets(cls, offsets: list[str]) -> list[str]:
        for text in offsets:
            if offset_seconds(text) <= 0:
                raise ValueError(f"{text!r}: a reminder must come before the start")
        return offsets

    @field_validator("feed_url")
    @classmethod
    def _valid_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            raise ValueError("feed_url must start with http:// or https:// and a host")
        return url.rstrip("/") if url else None

    @field_validator("holiday_regions")
    @classmethod
    def _valid_regions(cls, regions: list[str]) -> list[str]:
        from .public_holidays import check_region

        for region in regions:
            check_region(region)
        return regions

    def reminder_offsets(self) -> list[timedelta]:
        """Longest first, without doubles."""
        seconds = sorted({offset_seconds(t) for t in self.reminders}, reverse=True)
        return [timedelta(seconds=s) for s in seconds]
