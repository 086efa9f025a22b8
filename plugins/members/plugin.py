"""Members: the onboarding dialogue, profiles and moderator tools. This class
declares the commands and handlers; the work is done in onboarding.py,
profiles.py, moderation.py and housekeeping.py. `!mydata` and `!forget` are
the core's (diabot/privacy.py); this plugin registers its part of them.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Membership, Message
from diabot.formatting import escape_md
from diabot.plugin import Plugin, PluginConfig, Services

from . import answers as a
from .digest import MembersDigest
from .housekeeping import Housekeeping
from .models import Profile
from .moderation import ModeratorTools
from .onboarding import OnboardingDialogue
from .profiles import FIELD_BY_WORD, FIELD_CHOICES, ProfileService
from .prompts import Prompts


class MembersConfig(PluginConfig):
    # Raise when the privacy text changes: members are asked again.
    privacy_version: int = Field(default=1, ge=1)
    # Profiles nobody used for this long are deleted, after a warning DM.
    inactive_months: int = Field(default=18, ge=1)
    warning_days: int = Field(default=30, ge=1)
    # Optional greeting texts overriding the built-in ones, per language.
    welcome: dict[str, str] = Field(default_factory=dict)


class MembersPlugin(Plugin[MembersConfig]):
    name = "members"

    def __init__(self, services: Services, config: MembersConfig):
        super().__init__(services, config)
        self.profiles = ProfileService(services)
        prompts = Prompts(services, config, self.profiles)
        self.dialogue = OnboardingDialogue(services, config, self.profiles, prompts)
        self.moderation = ModeratorTools(services)
        self.housekeeping = Housekeeping(services, config, prompts)
        privacy = services.privacy
        privacy.register("members", self.profiles.export, self.profiles.erase)
        privacy.recognise_private_chat(self.dialogue.is_private_chat)
        privacy.recognise_listing(self.profiles.listed_among)
        privacy.forget_in_memory(self.profiles.forget_in_memory)
        MembersDigest(services).register()  # new members, the digest audience, active members (plugins/digest)

    async def start(self) -> None:
        # Once shortly after start (a changed privacy text is asked at once), then daily.
        scheduler = self.services.scheduler
        scheduler.at("members.housekeeping.start", scheduler.now() + timedelta(seconds=5), self.housekeeping.run)
        scheduler.every("members.housekeeping", 24 * 3600, self.housekeeping.run)
        # Before the sync loop starts: only dialogues that were open before this start.
        await self.housekeeping.resend_open_questions()

    # ---- where member data may be shown ---------------------------------------------------

    async def _may_become_private_chat(self, ctx: Context) -> bool:
        """A chat the member opened with the bot: only the two of them, not
        readable by strangers, and no community room."""
        rooms = self.services.rooms
        if rooms.member_count(ctx.room_id) > 2 or rooms.is_public(ctx.room_id):
            return False
        return not self.services.directory.is_community_room(ctx.room_id)

    def _refuse_in_public(self, ctx: Context) -> None:
        """Member data is never shown where strangers can read along."""
        if self.services.rooms.is_public(ctx.room_id):
            raise UsageError("members.not_in_public")

    # ---- handlers ------------------------------------------------------------------------------

    @on(Membership)
    async def on_membership(self, ctx: Context, event: Membership) -> None:
        if event.membership != "join" or event.user_id == self.services.bot_user_id or event.prev_membership == "join":
            return
        await self.dialogue.joined(ctx, event.user_id, event.room_id)

    @on(Message)
    async def on_message(self, ctx: Context, msg: Message) -> None:
        await self.profiles.mark_active(ctx.session, msg.sender)
        if msg.is_edit:
            return  # an edited answer is not a new answer
        await self.dialogue.answered(ctx, msg.body)

    # ---- commands: the dialogue -------------------------------------------------------------

    @command("onboarding", nl=("kennismaken",), de=("kennenlernen",), help="members.onboarding.help", perm=Perm.MEMBER)
    async def onboarding(self, ctx: Context) -> None:
        await self.dialogue.restart(ctx, here=await self._may_become_private_chat(ctx))

    @command("stop", nl=("stoppen",), de=("abbrechen",), help="members.stop.help", perm=Perm.ANYONE)
    async def stop_dialogue(self, ctx: Context) -> None:
        await self.dialogue.stop(ctx)

    # ---- commands: what the dialogue refers to ------------------------------------------------

    @command("privacy", nl=("privacy",), de=("datenschutz",), help="members.privacy.help", perm=Perm.ANYONE)
    async def privacy(self, ctx: Context) -> None:
        """The full privacy text; the consent question is its short form."""
        config = self.config
        ctx.reply("members.privacy.text", version=config.privacy_version, months=config.inactive_months)

    @command("resources", nl=("middelen",), de=("ressourcen",), help="members.resources.help", perm=Perm.ANYONE)
    async def resources(self, ctx: Context) -> None:
        """The long explanation behind the short labels of the offers and seeks lists."""
        ctx.reply_markdown(self.dialogue.prompts.resources_explained(ctx.lang))

    # ---- commands: profiles ------------------------------------------------------------------

    @command("profile", nl=("profiel",), de=("profil",), help="members.profile.help", perm=Perm.MEMBER)
    async def profile(self, ctx: Context) -> None:
        self._refuse_in_public(ctx)
        profile = await ctx.session.get(Profile, ctx.sender)
        if profile is None:
            ctx.reply("members.profile.none")
            return
        shown = ctx.reply_markdown(self.profiles.render(profile, ctx.lang))
        self.profiles.echoed(ctx, shown, [profile.user_id])

    @command(
        "profile set",
        nl=("profiel zet",),
        de=("profil setze",),
        help="members.profile_set.help",
        perm=Perm.MEMBER,
        args=(Arg("field", choices=FIELD_CHOICES, synonyms=tuple(FIELD_BY_WORD)), Arg("value", rest=True)),
    )
    async def profile_set(self, ctx: Context, field: str, value: str) -> None:
        self._refuse_in_public(ctx)
        field = FIELD_BY_WORD[field]
        profile = await ctx.session.get(Profile, ctx.sender)
        if profile is None:
            ctx.reply("members.profile.none")
            return
        answer = self.profiles.parse(field, value)
        if isinstance(answer, a.TooLong):
            raise UsageError("members.too_long", max=answer.limit, length=answer.length)
        if answer is None or answer is a.SKIPPED:
            raise UsageError("members.profile_set.bad", field=ctx.t(f"members.field.{field}"))
        setattr(profile, field, answer)
        shown = ctx.reply_markdown(f"{ctx.t('members.profile_set.done')}\n\n{self.profiles.render(profile, ctx.lang)}")
        self.profiles.echoed(ctx, shown, [profile.user_id])

    @command(
        "members",
        nl=("leden",),
        de=("mitglieder",),
        help="members.members.help",
        perm=Perm.MEMBER,
        args=(Arg("theme", rest=True),),
    )
    async def members(self, ctx: Context, theme: str) -> None:
        self._refuse_in_public(ctx)
        directory = self.services.directory
        found = directory.find(theme)
        if found is None:
            slugs = ", ".join(t.slug for t in directory.themes())
            raise UsageError("members.members.no_such_theme", theme=theme, themes=slugs)
        listed = await self.profiles.listed_in(ctx.session, found)
        name = found.name(ctx.lang)
        if not listed:
            ctx.reply("members.members.none", theme=name)
            return
        lines = [f"**{ctx.t('members.members.title', theme=name)}**", ""]
        offers = ctx.t("members.field.offers")
        for p in listed:
            place, resources = self.profiles.place(p, ctx.lang), self.profiles.resources(p.offers, ctx.lang)
            lines.append(f"- **{escape_md(p.company or '—')}** ({escape_md(place)}) — {offers}: {resources}")
        shown = ctx.reply_markdown("\n".join(lines))
        self.profiles.echoed(ctx, shown, [p.user_id for p in listed])

    # ---- commands: moderators -------------------------------------------------------------

    @command(
        "announce",
        nl=("mededeling",),
        de=("ankündigung", "ankuendigung"),
        help="members.announce.help",
        perm=Perm.MODERATOR,
        args=(Arg("text", rest=True),),
    )
    async def announce(self, ctx: Context, text: str) -> None:
        await self.moderation.announce(ctx, text)

    @command("stats", nl=("statistiek",), de=("statistik",), help="members.stats.help", perm=Perm.MODERATOR)
    async def stats(self, ctx: Context) -> None:
        await self.moderation.stats(ctx)
