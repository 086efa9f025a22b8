"""The onboarding dialogue in a direct chat: one question per step, the answer
read, the next step; at the end the profile, invitations and an introduction.

A new member who joins a themed room gets an (encrypted) direct chat; the
dialogue starts when they join it, so every device of theirs can read it.
State lives in the database (Onboarding): a restart continues where it was.

The greeting is an m.text, so that it reaches the member's phone (notices
never notify); the answers to what they type can stay notices.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from diabot.context import Context
from diabot.privacy import ErasureReason
from diabot.storage.models import utcnow

from . import answers as a
from .languages import LanguageReader
from .models import Onboarding, Profile
from .profiles import FREE_TEXT, INTRO, ProfileService, max_length
from .prompts import Prompts, lang_of

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .plugin import MembersConfig

log = logging.getLogger(__name__)
STEPS = ("language", "consent", "company", "town", "side", "sector", "themes", "offers", "seeks", "listed", "intro")


class OnboardingDialogue:
    def __init__(self, services: Services, config: MembersConfig, profiles: ProfileService, prompts: Prompts):
        self.services = services
        self.config = config
        self.profiles = profiles
        self.prompts = prompts
        self.languages = LanguageReader(services.translator, services.settings.translation.language_id)

    def _send(self, ctx: Context, state: Onboarding, markdown: str, *, ring: bool = False) -> None:
        """`ring`: an m.text that notifies the member's phone."""
        if ring:
            ctx.text(state.dm_room_id, markdown)
        else:
            ctx.send_markdown(state.dm_room_id, markdown)

    async def is_private_chat(self, session: AsyncSession, user_id: str, room_id: str) -> bool:
        """The chat the dialogue runs in (the member may have opened it)."""
        state = await session.get(Onboarding, user_id)
        return state is not None and state.dm_room_id == room_id

    # ---- starting ----------------------------------------------------------------------------

    async def joined(self, ctx: Context, user_id: str, room_id: str) -> None:
        state = await ctx.session.get(Onboarding, user_id)
        if state is not None and state.dm_room_id == room_id and state.status == "invited":
            # They accepted the direct chat: start talking.
            state.status = "active"
            await self.prompt(ctx, state, greet=True)
            return
        if state is None and self.services.directory.is_community_room(room_id):  # the space or a themed room
            await self.open_direct_chat(ctx, user_id)

    async def open_direct_chat(self, ctx: Context, user_id: str) -> Onboarding | None:
        if not self.services.limits.allows("direct_chats", user_id):
            log.warning("not opening another direct chat: per-user limit", extra={"room_id": ctx.room_id})
            return None
        guess = a.guess_language(user_id)
        room_id = await self.services.direct.open(user_id)
        state = Onboarding(
            user_id=user_id,
            dm_room_id=room_id,
            status="invited",
            step="language",
            answers={"guess": guess} if guess else {},
        )
        ctx.session.add(state)
        log.info("opened an onboarding chat", extra={"room_id": room_id})
        if self.services.rooms.has_joined(room_id, user_id):
            # A direct chat found again after a stop: they joined it already, so no join event will start it.
            state.status = "active"
            await self.prompt(ctx, state, greet=True)
        return state

    async def restart(self, ctx: Context, here: bool) -> None:
        """!onboarding: from the start, in this room if it may become the private chat."""
        state = await ctx.session.get(Onboarding, ctx.sender)
        if state is None:
            if not here:
                opened = await self.open_direct_chat(ctx, ctx.sender)
                ctx.reply("members.dm_opened" if opened else "core.error.slow_down")
                return
            state = Onboarding(user_id=ctx.sender, dm_room_id=ctx.room_id, status="active", step="language", answers={})
            ctx.session.add(state)
        else:
            state.status, state.step, state.answers = "active", "language", {"guess": ctx.lang}
            if here:
                state.dm_room_id = ctx.room_id
        await self.prompt(ctx, state, greet=True)
        if ctx.room_id != state.dm_room_id:
            ctx.reply("members.continue_in_dm")

    async def stop(self, ctx: Context) -> None:
        state = await ctx.session.get(Onboarding, ctx.sender)
        if state is None or state.status != "active":
            ctx.reply("members.stop.nothing")
            return
        state.status = "stopped"
        ctx.reply("members.stop.done")

    # ---- asking ------------------------------------------------------------------------------

    async def prompt(self, ctx: Context, state: Onboarding, greet: bool = False) -> None:
        lang = lang_of(state)
        question = self.prompts.question(state.step, lang)
        if greet:
            greeting = self.prompts.greeting(state.answers.get("lang") or state.answers.get("guess"))
            self._send(ctx, state, f"{greeting}\n\n{question}", ring=True)
        else:
            self._send(ctx, state, question)

    async def _ask_shorter(self, ctx: Context, state: Onboarding, too_long: a.TooLong) -> None:
        lang = lang_of(state)
        text = self.prompts.t(lang, "members.too_long", max=too_long.limit, length=too_long.length)
        self._send(ctx, state, f"{text}\n\n{self.prompts.question(state.step, lang)}")

    # ---- answers -----------------------------------------------------------------------------

    async def answered(self, ctx: Context, text: str) -> None:
        state = await ctx.session.get(Onboarding, ctx.sender)
        if state is None or state.status != "active" or state.dm_room_id != ctx.room_id:
            return
        if state.step == "language":
            answer: object = await self.languages.read(text, guess=state.answers.get("guess"))
        else:
            answer = self._understand(state.step, text)
        if isinstance(answer, a.TooLong):
            await self._ask_shorter(ctx, state, answer)
            return
        if answer is None:
            self._send(ctx, state, self.prompts.ask_again(state.step, lang_of(state)))
            return
        answers = dict(state.answers)
        if state.step == "language":
            answers["lang"] = answer
            await self.services.languages.set_user(ctx.session, ctx.sender, str(answer))
        elif state.step == "consent":
            if answer is not True:
                await self._declined(ctx, state)
                return
            profile = await ctx.session.get(Profile, ctx.sender)
            if profile is not None and profile.consent_version < self.config.privacy_version:
                profile.consent_version, profile.consent_at = self.config.privacy_version, utcnow()
                state.status, state.step = "done", "done"
                self._send(ctx, state, self.prompts.t(lang_of(state), "members.reconsent_done"))
                return
            answers["consent"] = self.config.privacy_version
        elif answer is not a.SKIPPED:
            answers[state.step] = answer
        state.answers = answers
        following = STEPS[STEPS.index(state.step) + 1 :] if state.step in STEPS else ()
        if not following:
            await self._finish(ctx, state)
            return
        state.step = following[0]
        await self.prompt(ctx, state)

    def _understand(self, step: str, text: str) -> object:
        if step in ("consent", "intro"):
            got = a.yes_no(text)
            return False if got is a.SKIPPED else got
        return self.profiles.parse(step, text)

    async def _declined(self, ctx: Context, state: Onboarding) -> None:
        lang, user_id, room_id = lang_of(state), state.user_id, state.dm_room_id
        if await ctx.session.get(Profile, user_id) is not None:
            # Consent withdrawn after a changed privacy text: the same full erase as !forget.
            await self.services.privacy.erase(ctx, user_id, ErasureReason.DECLINED)
            await ctx.session.flush()
            # Only what keeps the dialogue from asking again, and this chat private.
            state = Onboarding(user_id=user_id, dm_room_id=room_id, status="declined", step="consent", answers={})
            ctx.session.add(state)
        state.status, state.answers = "declined", {"lang": lang}
        self._send(ctx, state, self.prompts.t(lang, "members.declined"))

    async def _finish(self, ctx: Context, state: Onboarding) -> None:
        answers, lang, user_id = state.answers, lang_of(state), state.user_id
        for field in FREE_TEXT:  # answers kept from before the limits were checked
            value = answers.get(field)
            if isinstance(value, str) and len(value) > max_length(field):
                state.step = field
                await self._ask_shorter(ctx, state, a.TooLong(max_length(field), len(value)))
                return
        consent = answers.get("consent", self.config.privacy_version)
        profile = await ctx.session.get(Profile, user_id)
        if profile is None:
            profile = Profile(user_id=user_id, consent_version=consent)
            ctx.session.add(profile)
        self.profiles.fill(profile, answers, consent)
        state.status, state.step = "done", "done"
        themes = {theme.slug: theme for theme in self.profiles.suggested_themes()}
        invited = []
        for slug in profile.themes:
            if slug in themes and await self.services.rooms.invite(themes[slug].room_id, user_id):
                invited.append(themes[slug].name(lang))
        welcome = self.services.directory.welcome_room()
        if answers.get("intro") is True and welcome is not None:
            await self._introduce(ctx, profile, welcome.room_id)
        done = [self.prompts.t(lang, "members.done")]
        if invited:
            done.append(self.prompts.t(lang, "members.invited", rooms=", ".join(invited)))
        done.append(self.prompts.t(lang, "members.after"))
        self._send(ctx, state, "\n\n".join(done))

    async def _introduce(self, ctx: Context, profile: Profile, room_id: str) -> None:
        """A bilingual introduction in the welcome room; redacted when they are erased."""
        name = self.services.rooms.display_name(room_id, profile.user_id)
        blocks = [
            self.prompts.t(
                lang,
                "members.intro",
                name=name,
                company=profile.company or "—",
                place=self.profiles.place(profile, lang),
                offers=self.profiles.resources(profile.offers, lang),
                seeks=self.profiles.resources(profile.seeks, lang),
            )
            for lang in ("nl", "de")
        ]
        intro = ctx.send_markdown(room_id, "\n\n".join(blocks))
        ctx.ledger.record(intro, INTRO, subject=profile.user_id, user_id=profile.user_id)
