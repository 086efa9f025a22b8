"""Requests lapse after their time (default 90 days). A week before, the author gets an m.text in
the direct chat with a one-tap renewal: reacting 🔁 to it (the ledger knows which request the
message was about) or `!renew <id>`. A periodic sweep does both; the table is the truth, so a
sweep missed during downtime is made up by the next one, and `reminded_at` makes it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from diabot.plugin import Services
from diabot.sending import Sender, UnitOfWork
from diabot.storage.models import aware

from . import store
from .introductions import Introductions
from .models import EXPIRED

log = logging.getLogger(__name__)
REMINDER = "exchange.reminder"  # ledger purpose: subject = the request's id
RENEW_KEY = "🔁"


class Expiry:
    def __init__(self, services: Services, introductions: Introductions, remind_days: int):
        self.services = services
        self.introductions = introductions
        self.remind = timedelta(days=remind_days)

    async def sweep(self) -> None:
        try:
            async with self.services.work() as uow:
                await self.run(uow)
        except Exception:
            log.exception("the exchange's expiry sweep failed; the next one tries again")

    async def run(self, uow: UnitOfWork) -> tuple[int, int]:
        """(reminded, expired) in this unit of work."""
        now = self.services.scheduler.now()
        # Reads and direct chats first, writes after: opening a chat may write in its own transaction.
        lapsed = await store.expired(uow.session, now)
        due = [i for i in await store.due_reminders(uow.session, now + self.remind) if i not in lapsed]
        dms = {i.author: await self.services.direct.open(i.author) for i in due if i.author is not None}
        for item in lapsed:
            item.status = EXPIRED
            await self.introductions.withdraw(uow, item)
        for item in due:
            item.reminded_at = now
            if item.author is None or item.expires_at is None:
                continue
            # Their chosen language, else the one they wrote the request in.
            lang = await self.services.languages.for_user(uow.session, item.author, hint=item.lang)
            them = Sender(self.services, uow.session, lang, uow.queued)
            handle = them.text(
                dms[item.author],
                them.t(
                    f"exchange.reminder.{item.kind}",
                    id=item.id,
                    text=" ".join(item.text.split())[:160],
                    date=self.services.i18n.date(them.lang, aware(item.expires_at) or now),
                ),
                mentions=[item.author],
            )
            uow.ledger.record(handle, REMINDER, subject=str(item.id), user_id=item.author)
        return len(due), len(lapsed)
