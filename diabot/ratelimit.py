"""Per-user limits on what one person can make the bot do (commands,
translations, direct chats opened), so one member cannot slow the bot down
for everyone. Moving windows in memory from `limits` (the library behind
Flask-Limiter); a restart forgets them, which is fine for this purpose."""

from __future__ import annotations

import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class Verdict:
    ALLOW = "allow"
    WARN = "warn"  # refused, and the person has not been told yet in this window
    DROP = "drop"  # refused, already told


class RateLimits:
    def __init__(
        self, rules: dict[str, str], exempt: frozenset[str] = frozenset(), clock: Callable[[], float] = time.monotonic
    ):
        self.rules: dict[str, RateLimitItem] = {kind: parse(rule) for kind, rule in rules.items()}
        self.exempt = exempt
        self.clock = clock
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._told: dict[tuple[str, str], float] = {}

    def check(self, kind: str, user_id: str) -> str:
        rule = self.rules.get(kind)
        if rule is None or user_id in self.exempt or self._limiter.hit(rule, kind, user_id):
            return Verdict.ALLOW
        key = (kind, user_id)
        now = self.clock()
        if now - self._told.get(key, -1e18) < rule.get_expiry():
            return Verdict.DROP
        self._told[key] = now
        return Verdict.WARN

    def allows(self, kind: str, user_id: str) -> bool:
        return self.check(kind, user_id) == Verdict.ALLOW
