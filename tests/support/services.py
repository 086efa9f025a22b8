"""Services for unit tests. The bot builds the real ones in one place
(diabot/app.py); a test passes the ones it exercises and gets the rest as
stand-ins: cheap real objects where they are harmless (languages, router, no
rate limits), else None, so a test that reaches a service it did not pass
fails at once."""

from __future__ import annotations

from typing import Any

from diabot.commands import Router
from diabot.insights import Insights
from diabot.language import LanguageResolver
from diabot.plugin import Services
from diabot.ratelimit import RateLimits


def make_services(**given: Any) -> Services:
    """`make_services(db=db, outbox=outbox, privacy=Privacy(tmp_path))`; unknown names raise TypeError."""
    defaults: dict[str, Any] = {
        "db": None,
        "outbox": None,
        "scheduler": None,
        "permissions": None,
        "i18n": None,
        "languages": LanguageResolver("en"),
        "router": Router("!"),
        "bot_user_id": "@bot:x",
        "settings": None,
        "rooms": None,
        "privacy": None,
        "directory": None,
        "limits": RateLimits({}),
        "direct": None,
        "translator": None,
        "insights": Insights(),
    }
    return Services(**{**defaults, **given})
