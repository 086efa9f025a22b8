"""Daily care of the stored profiles: profiles unused for too long are erased
after a warning (the same full erase as !forget), and members whose consent
is for an older privacy text are asked again."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from diabot.privacy import ErasureReason
from diabot.storage.models import KeyValue, aware, utcnow

from .models import Onboarding, Profile
from .prompts import Prompts, lang_of

if TYPE_CHECKING:
    from diabot.plugin import Services
    from diabot.sending import UnitOfWork

    from .plugin import MembersConfig

log = logging.getLogger(__name__)
RESENT_KEY = "members.questions_resent_after_cross_signing"


class Housekeeping:
    def __init__(self, services: Services, config: MembersConfig, prompts: Prompts):
        self.services = services
        self.config = config
        self.prompts = prompts

    async def run(self) -> None:
        async with self.services.work() as uow:
            await self._inactive_profiles(uow)
            await self._outdated_consent(uow)

    async def _inactive_profiles(self, uow: UnitOfWork) -> None:
        now = utcnow()
        inactive_before = now - timedelta(days=30 * self.config.inactive_months)
        warned_before = now - timedelta(days=self.config.warning_days)
        session = uow.session
        stale = (await session.scalars(select(Profile).where(Profile.last_active_at < inactive_before))).all()
        for profile in stale:
            user_id = profile.user_id
            if profile.warned_at is None:
                profile.warned_at = now
                state = await session.get(Onboarding, user_id)
                if state is not None:  # as m.text: a warning before deletion must reach the phone
                    them = await uow.for_user(user_id, state.dm_room_id)
                    text = self.prompts.t(
                        lang_of(state), "members.inactive_warning", months=self.config.inactive_months
                    )
                    them.text(state.dm_room_id, text)
            elif (aware(profile.warned_at) or now) < warned_before:
                # The same full erase as !forget, across every plugin.
                await self.services.privacy.erase(uow, user_id, ErasureReason.INACTIVITY)

    async def _outdated_consent(self, uow: UnitOfWork) -> None:
        session = uow.session
        query = select(Profile).where(Profile.consent_version < self.config.privacy_version)
        for profile in (await session.scalars(query)).all():
            state = await session.get(Onboarding, profile.user_id)
            if state is None or state.status == "active":
                continue
            state.status, state.step = "active", "consent"
            lang, them = lang_of(state), await uow.for_user(profile.user_id, state.dm_room_id)
            them.text(
                state.dm_room_id, f"{self.prompts.t(lang, 'members.privacy_changed')}\n\n{self.prompts.consent(lang)}"
            )

    async def resend_open_questions(self) -> None:
        """Once, after the upgrade that cross-signed the bot: members on current
        Element could not read the bot's questions before, so each open dialogue
        gets its current question again (as m.text: it must reach the phone)."""
        if await self.services.db.get_value(RESENT_KEY) is not None:
            return
        async with self.services.work() as uow:
            open_dialogues = (await uow.session.scalars(select(Onboarding).where(Onboarding.status == "active"))).all()
            for state in open_dialogues:
                them = await uow.for_user(state.user_id, state.dm_room_id)
                them.text(state.dm_room_id, self.prompts.question(state.step, lang_of(state)))
            await uow.session.merge(KeyValue(key=RESENT_KEY, value=utcnow().isoformat()))
        if open_dialogues:
            log.info(
                "re-sent the open onboarding questions after the identity upgrade", extra={"count": len(open_dialogues)}
            )
