"""Onboarding in a direct chat, member profiles, moderator tools and GDPR
self-service (!mydata, !forget).

A new member who joins the space or a themed room gets an (encrypted) direct
chat; the dialogue starts when they join it, so every device of theirs can
read it. State lives in the database: a restart continues where it was.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

from pydantic import Field
from sqlalchemy import delete, func, select

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Membership, Message
from diabot.formatting import escape_md, notice_contents
from diabot.outbox import FILE_EVENT, LEAVE_EVENT
from diabot.plugin import Plugin, PluginConfig
from diabot.storage.models import ErasureLog, KeyValue, OutboxMessage, aware, utcnow
from diabot.translation import NoModel
from plugins.community.models import ThemeRoom

from . import dialogue as d
from .models import Onboarding, Profile, ProfileEcho

log = logging.getLogger(__name__)
STEPS = ("language", "consent", "company", "town", "side", "sector", "themes", "offers", "seeks", "listed", "intro")
FREE_TEXT = ("company", "town", "sector")
CONFIRM_WINDOW_S = 600
RESENT_KEY = "members.questions_resent_after_cross_signing"
# Profile fields by the words members use for them.
FIELD_NAMES = {
    "company": ("company", "bedrijf", "unternehmen", "firma"),
    "town": ("town", "plaats", "ort"),
    "side": ("side", "kant", "seite"),
    "sector": ("sector", "branche"),
    "themes": ("themes", "themas", "thema's", "themen"),
    "offers": ("offers", "biedt", "aanbod", "bietet", "angebot"),
    "seeks": ("seeks", "zoekt", "sucht"),
    "listed": ("listed", "zichtbaar", "sichtbar"),
}
FIELD_BY_WORD = {word: field for field, words in FIELD_NAMES.items() for word in words}


def max_length(field: str) -> int:
    """What the profile column holds: PostgreSQL refuses more (VARCHAR(n))."""
    return Profile.__table__.c[field].type.length


class MembersConfig(PluginConfig):
    # Raise when the privacy text changes: members are asked again.
    privacy_version: int = Field(default=1, ge=1)
    # Profiles nobody used for this long are deleted, after a warning DM.
    inactive_months: int = Field(default=18, ge=1)
    warning_days: int = Field(default=30, ge=1)
    # Optional greeting texts overriding the built-in ones, per language.
    welcome: dict[str, str] = Field(default_factory=dict)


class MembersPlugin(Plugin):
    name = "members"
    Config = MembersConfig

    def __init__(self, services, config: MembersConfig):
        super().__init__(services, config)
        self._forget_requests: dict[str, float] = {}
        self._active_marked: dict[str, str] = {}
        if services.privacy is not None:
            services.privacy.register("members", self._export, self._erase)

    async def start(self) -> None:
        # Once shortly after start (a changed privacy text is asked at once),
        # then daily.
        scheduler = self.services.scheduler
        scheduler.at("members.housekeeping.start", scheduler.now() + timedelta(seconds=5), self.housekeeping)
        scheduler.every("members.housekeeping", 24 * 3600, self.housekeeping)
        # Before the sync loop starts: only dialogues that were open before this start.
        await self.resend_open_questions()

    async def resend_open_questions(self) -> None:
        """Once, after the upgrade that cross-signed the bot: members on current
        Element could not read the bot's questions before, so each open dialogue
        gets its current question again (as m.text: it must reach the phone)."""
        db = self.services.db
        if await db.get_value(RESENT_KEY) is not None:
            return
        queued = []
        async with db.transaction() as session:
            for state in (await session.scalars(select(Onboarding).where(Onboarding.status == "active"))).all():
                lang = self._lang(state)
                text = await self._question(session, state, lang)
                for content in notice_contents(text, msgtype="m.text"):
                    queued.append(self.services.outbox.queue(session, state.dm_room_id, content))
            await session.merge(KeyValue(key=RESENT_KEY, value=utcnow().isoformat()))
        self.services.outbox.notify(queued)
        if queued:
            log.info("re-sent the open onboarding questions after the identity upgrade", extra={"count": len(queued)})

    # ---- helpers -------------------------------------------------------------------

    def _t(self, lang: str, key: str, **params) -> str:
        return self.services.i18n.t(lang, key, **params)

    async def _theme_rooms(self, session) -> list[ThemeRoom]:
        query = (
            select(ThemeRoom)
            .where(ThemeRoom.slug != "_space", ThemeRoom.archived.is_(False))
            .order_by(ThemeRoom.created_at)
        )
        return list((await session.scalars(query)).all())

    def _theme_name(self, room: ThemeRoom, lang: str) -> str:
        return room.name_de if lang == "de" else room.name_nl if lang == "nl" else f"{room.name_nl} / {room.name_de}"

    def _resource_options(self) -> list[tuple[str, list[str]]]:
        return [
            (key, [self._t(lang, f"members.resource.{key}") for lang in ("nl", "de", "en")] + [key])
            for key in d.RESOURCES
        ]

    def _send(self, ctx: Context, room_id: str, markdown: str) -> None:
        ctx.send_markdown(room_id, markdown)

    async def _private_chat(self, ctx: Context) -> bool:
        """Is this the direct chat the bot recorded with the sender? Personal
        data goes nowhere else: a room with two people today may have twenty
        tomorrow (a themed room, a moderator's room)."""
        state = await ctx.session.get(Onboarding, ctx.sender)
        return state is not None and state.dm_room_id == ctx.room_id

    async def _may_become_private_chat(self, ctx: Context) -> bool:
        """A chat the member opened with the bot: only the two of them, not
        readable by strangers, and no community room."""
        rooms = self.services.rooms
        if rooms.member_count(ctx.room_id) > 2 or rooms.is_public(ctx.room_id):
            return False
        themed = await ctx.session.scalar(select(ThemeRoom.slug).where(ThemeRoom.room_id == ctx.room_id))
        return themed is None

    def _refuse_in_public(self, ctx: Context) -> None:
        """Member data is never shown where strangers can read along."""
        if self.services.rooms.is_public(ctx.room_id):
            raise UsageError("members.not_in_public")

    # ---- joining: open the direct chat ----------------------------------------------------

    @on(Membership)
    async def on_membership(self, ctx: Context, event: Membership) -> None:
        if event.membership != "join" or event.user_id == self.services.bot_user_id or event.prev_membership == "join":
            return
        state = await ctx.session.get(Onboarding, event.user_id)
        if state is not None and state.dm_room_id == event.room_id and state.status == "invited":
            # They accepted the direct chat: start talking.
            state.status = "active"
            await self._prompt(ctx, state, greet=True)
            return
        if state is not None:
            return
        themed = await ctx.session.scalar(select(ThemeRoom.slug).where(ThemeRoom.room_id == event.room_id))
        if themed is None:
            return
        await self._open_dm(ctx, event.user_id)

    async def _open_dm(self, ctx: Context, user_id: str) -> Onboarding | None:
        limits = self.services.limits
        if limits is not None and not limits.allows("direct_chats", user_id):
            log.warning("not opening another direct chat: per-user limit", extra={"room_id": ctx.room_id})
            return None
        lang = d.guess_language(user_id)
        room_id = await self.services.rooms.open_direct(user_id, "diabot")
        state = Onboarding(
            user_id=user_id,
            dm_room_id=room_id,
            status="invited",
            step="language",
            answers={"guess": lang} if lang else {},
        )
        ctx.session.add(state)
        log.info("opened an onboarding chat", extra={"room_id": room_id})
        if self.services.rooms.has_joined(room_id, user_id):
            # A direct chat found again after a stop: they joined it already, so no join event will start it.
            state.status = "active"
            await self._prompt(ctx, state, greet=True)
        return state

    # ---- the dialogue -------------------------------------------------------------------

    def _lang(self, state: Onboarding) -> str:
        return state.answers.get("lang") or state.answers.get("guess") or "en"

    async def _prompt(self, ctx: Context, state: Onboarding, greet: bool = False, reask: bool = False) -> None:
        lang = self._lang(state)
        parts = []
        if greet:
            parts.append(self.config.welcome.get(lang) or self._t(lang, "members.greeting"))
        if reask:
            parts.append(self._t(lang, "members.reask"))
        parts.append(await self._question(ctx.session, state, lang))
        self._send(ctx, state.dm_room_id, "\n\n".join(parts))

    async def _question(self, session, state: Onboarding, lang: str) -> str:
        step, t = state.step, (lambda key, **p: self._t(lang, key, **p))
        skip = t("members.skip_hint")
        if step == "language":
            return t("members.q.language")
        if step == "consent":
            return f"{t('members.about')}\n\n{t('members.q.consent', version=self.config.privacy_version)}"
        if step in FREE_TEXT:
            return f"{t(f'members.q.{step}')} {skip}"
        if step == "side":
            return f"{t('members.q.side')}\n1. {t('members.side.nl')}\n2. {t('members.side.de')}\n\n{skip}"
        if step == "themes":
            rooms = [r for r in await self._theme_rooms(session) if r.slug != "welcome"]
            listing = "\n".join(f"{i}. {escape_md(self._theme_name(r, lang))}" for i, r in enumerate(rooms, 1))
            return f"{t('members.q.themes')}\n{listing}\n\n{t('members.multi_hint')} {skip}"
        if step in ("offers", "seeks"):
            listing = "\n".join(f"{i}. {t(f'members.resource.{k}')}" for i, k in enumerate(d.RESOURCES, 1))
            return f"{t(f'members.q.{step}')}\n{listing}\n\n{t('members.multi_hint')} {skip}"
        return t(f"members.q.{step}")  # listed, intro: yes/no

    @on(Message)
    async def on_message(self, ctx: Context, msg: Message) -> None:
        await self._mark_active(ctx, msg.sender)
        if msg.is_edit:
            return  # an edited answer is not a new answer
        state = await ctx.session.get(Onboarding, msg.sender)
        if state is None or state.status != "active" or state.dm_room_id != msg.room_id:
            return
        answer = await self._understand(ctx, state, msg.body)
        if isinstance(answer, d.TooLong):
            await self._ask_shorter(ctx, state, answer)
            return
        if answer is None and state.step == "language":
            answer = await self._language_of(msg.body)
        if answer is None:
            await self._prompt(ctx, state, reask=True)
            return
        answers = dict(state.answers)
        if state.step == "language":
            answers["lang"] = answer
            await self.services.languages.set_user(ctx.session, msg.sender, answer)
        elif state.step == "consent":
            profile = await ctx.session.get(Profile, msg.sender)
            if answer is not True:
                if profile is not None:  # consent withdrawn after a privacy change
                    await self._erase_profile_only(ctx, msg.sender)
                state.status, state.answers = "declined", {"lang": self._lang(state)}
                self._send(ctx, state.dm_room_id, self._t(self._lang(state), "members.declined"))
                return
            if profile is not None and profile.consent_version < self.config.privacy_version:
                profile.consent_version, profile.consent_at = self.config.privacy_version, utcnow()
                state.status, state.step = "done", "done"
                self._send(ctx, state.dm_room_id, self._t(self._lang(state), "members.reconsent_done"))
                return
            answers["consent"] = self.config.privacy_version
        elif answer is not d.SKIPPED:
            answers[state.step] = answer
        state.answers = answers
        following = STEPS[STEPS.index(state.step) + 1 :] if state.step in STEPS else ()
        if not following:
            await self._finish(ctx, state)
            return
        state.step = following[0]
        await self._prompt(ctx, state)

    async def _ask_shorter(self, ctx: Context, state: Onboarding, too_long: d.TooLong) -> None:
        lang = self._lang(state)
        text = self._t(lang, "members.too_long", max=too_long.limit, length=too_long.length)
        self._send(ctx, state.dm_room_id, f"{text}\n\n{await self._question(ctx.session, state, lang)}")

    async def _language_of(self, text: str) -> str | None:
        """A member who just starts writing ("Hallo, ich bin …") chose a language too."""
        translator = self.services.translator
        if translator is None or len(text.split()) < 3:
            return None
        return await translator.detect(text)

    async def _understand(self, ctx: Context, state: Onboarding, text: str):
        step = state.step
        if step == "language":
            return d.language(text)
        if step in ("consent", "listed", "intro"):
            got = d.yes_no(text)
            return False if got is d.SKIPPED else got
        if step in FREE_TEXT:
            return d.free_text(text, limit=max_length(step))
        if step == "side":
            options = [(s, [self._t(lang, f"members.side.{s}") for lang in ("nl", "de", "en")] + [s]) for s in d.SIDES]
            got = d.choices(text, options, multi=False)
            return got[0] if isinstance(got, list) else got
        if step == "themes":
            rooms = [r for r in await self._theme_rooms(ctx.session) if r.slug != "welcome"]
            return d.choices(text, [(r.slug, [r.slug, r.name_nl, r.name_de]) for r in rooms], multi=True)
        if step in ("offers", "seeks"):
            return d.choices(text, self._resource_options(), multi=True)
        return None

    async def _finish(self, ctx: Context, state: Onboarding) -> None:
        a, lang, user = state.answers, self._lang(state), state.user_id
        for field in FREE_TEXT:  # answers kept from before the limits were checked
            value = a.get(field)
            if isinstance(value, str) and len(value) > max_length(field):
                state.step = field
                await self._ask_shorter(ctx, state, d.TooLong(max_length(field), len(value)))
                return
        profile = await ctx.session.get(Profile, user)
        if profile is None:
            profile = Profile(user_id=user, consent_version=a.get("consent", self.config.privacy_version))
            ctx.session.add(profile)
        for field in ("company", "town", "side", "sector"):
            setattr(profile, field, a.get(field))
        profile.themes, profile.offers, profile.seeks = a.get("themes", []), a.get("offers", []), a.get("seeks", [])
        profile.listed = a.get("listed") is True
        profile.consent_version, profile.consent_at = a.get("consent", self.config.privacy_version), utcnow()
        state.status, state.step = "done", "done"
        rooms = {r.slug: r for r in await self._theme_rooms(ctx.session)}
        invited = []
        for slug in profile.themes:
            if slug in rooms and await self.services.rooms.invite(rooms[slug].room_id, user):
                invited.append(self._theme_name(rooms[slug], lang))
        if a.get("intro") is True and "welcome" in rooms:
            await self._introduce(ctx, profile, rooms["welcome"].room_id)
        done = [self._t(lang, "members.done")]
        if invited:
            done.append(self._t(lang, "members.invited", rooms=", ".join(invited)))
        done.append(self._t(lang, "members.after"))
        self._send(ctx, state.dm_room_id, "\n\n".join(done))

    async def _introduce(self, ctx: Context, profile: Profile, room_id: str) -> None:
        name = self.services.rooms.display_name(room_id, profile.user_id)
        blocks = []
        for lang in ("nl", "de"):
            blocks.append(
                self._t(
                    lang,
                    "members.intro",
                    name=name,
                    company=profile.company or "—",
                    place=self._place(profile, lang),
                    offers=self._resources(profile.offers, lang),
                    seeks=self._resources(profile.seeks, lang),
                )
            )
        for content in notice_contents("\n\n".join(blocks)):
            row = self.services.outbox.queue(ctx.session, room_id, content)
            ctx.queued.append(row)
            await ctx.session.flush()
            ctx.session.add(ProfileEcho(user_id=profile.user_id, outbox_id=row.id))

    async def _echoed(self, ctx: Context, user_ids: list[str], rows: list[OutboxMessage]) -> None:
        """Remember bot messages that repeat profiles, to redact them on !forget."""
        await ctx.session.flush()
        for row in rows:
            for user_id in user_ids:
                ctx.session.add(ProfileEcho(user_id=user_id, outbox_id=row.id))

    def _place(self, profile: Profile, lang: str) -> str:
        side = self._t(lang, f"members.side.{profile.side}") if profile.side else ""
        return ", ".join(p for p in (profile.town, side) if p) or "—"

    def _resources(self, keys: list[str], lang: str) -> str:
        return ", ".join(self._t(lang, f"members.resource.{k}") for k in keys if k in d.RESOURCES) or "—"

    async def _mark_active(self, ctx: Context, user_id: str) -> None:
        """At most one write per member and day."""
        today = datetime.now(UTC).date().isoformat()
        if self._active_marked.get(user_id) == today:
            return
        profile = await ctx.session.get(Profile, user_id)
        if profile is not None:
            profile.last_active_at, profile.warned_at = utcnow(), None
        self._active_marked[user_id] = today

    # ---- commands: dialogue ---------------------------------------------------------------

    @command("onboarding", nl=("kennismaken",), de=("kennenlernen",), help="members.onboarding.help", perm=Perm.MEMBER)
    async def onboarding(self, ctx: Context) -> None:
        state = await ctx.session.get(Onboarding, ctx.sender)
        here = await self._may_become_private_chat(ctx)
        if state is None:
            if here:
                state = Onboarding(
                    user_id=ctx.sender, dm_room_id=ctx.room_id, status="active", step="language", answers={}
                )
                ctx.session.add(state)
            else:
                opened = await self._open_dm(ctx, ctx.sender)
                ctx.reply("members.dm_opened" if opened else "core.error.slow_down")
                return
        else:
            state.status, state.step, state.answers = "active", "language", {"guess": ctx.lang}
            if here:
                state.dm_room_id = ctx.room_id
        await self._prompt(ctx, state, greet=True)
        if ctx.room_id != state.dm_room_id:
            ctx.reply("members.continue_in_dm")

    @command("stop", nl=("stoppen",), de=("abbrechen",), help="members.stop.help", perm=Perm.ANYONE)
    async def stop_dialogue(self, ctx: Context) -> None:
        state = await ctx.session.get(Onboarding, ctx.sender)
        if state is None or state.status != "active":
            ctx.reply("members.stop.nothing")
            return
        state.status = "stopped"
        ctx.reply("members.stop.done")

    # ---- commands: profiles ------------------------------------------------------------------

    @command("profile", nl=("profiel",), de=("profil",), help="members.profile.help", perm=Perm.MEMBER)
    async def profile(self, ctx: Context) -> None:
        self._refuse_in_public(ctx)
        profile = await ctx.session.get(Profile, ctx.sender)
        if profile is None:
            ctx.reply("members.profile.none")
            return
        before = len(ctx.queued)
        ctx.reply_markdown(await self._render_profile(ctx, profile))
        await self._echoed(ctx, [profile.user_id], ctx.queued[before:])

    async def _render_profile(self, ctx: Context, p: Profile) -> str:
        rooms = {r.slug: r for r in await self._theme_rooms(ctx.session)}
        themes = ", ".join(self._theme_name(rooms[s], ctx.lang) for s in p.themes if s in rooms) or "—"
        yes, no = ctx.t("members.yes"), ctx.t("members.no")
        rows = [
            ("company", p.company or "—"),
            ("town", p.town or "—"),
            ("side", ctx.t(f"members.side.{p.side}") if p.side else "—"),
            ("sector", p.sector or "—"),
            ("themes", themes),
            ("offers", self._resources(p.offers, ctx.lang)),
            ("seeks", self._resources(p.seeks, ctx.lang)),
            ("listed", yes if p.listed else no),
        ]
        lines = [f"**{ctx.t('members.profile.title')}**", ""]
        lines += [f"- {ctx.t(f'members.field.{k}')}: {escape_md(v)}" for k, v in rows]
        return "\n".join(lines)

    @command(
        "profile set",
        nl=("profiel zet",),
        de=("profil setze",),
        help="members.profile_set.help",
        perm=Perm.MEMBER,
        args=(Arg("field", choices=tuple(FIELD_BY_WORD)), Arg("value", rest=True)),
    )
    async def profile_set(self, ctx: Context, field: str, value: str) -> None:
        self._refuse_in_public(ctx)
        field = FIELD_BY_WORD[field]
        profile = await ctx.session.get(Profile, ctx.sender)
        if profile is None:
            ctx.reply("members.profile.none")
            return
        state = Onboarding(user_id=ctx.sender, dm_room_id=ctx.room_id, status="active", step=field, answers={})
        answer = await self._understand(ctx, state, value)
        if isinstance(answer, d.TooLong):
            raise UsageError("members.too_long", max=answer.limit, length=answer.length)
        if answer is None or answer is d.SKIPPED:
            raise UsageError("members.profile_set.bad", field=ctx.t(f"members.field.{field}"))
        setattr(profile, field, answer)
        before = len(ctx.queued)
        ctx.reply_markdown(f"{ctx.t('members.profile_set.done')}\n\n{await self._render_profile(ctx, profile)}")
        await self._echoed(ctx, [profile.user_id], ctx.queued[before:])

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
        rooms = await self._theme_rooms(ctx.session)
        from rapidfuzz import fuzz, process

        labels = {label.lower(): r for r in rooms for label in (r.slug, r.name_nl, r.name_de)}
        best = process.extractOne(theme.lower(), list(labels), scorer=fuzz.WRatio, score_cutoff=75)
        if best is None:
            raise UsageError("community.no_such_theme", theme=theme, themes=", ".join(r.slug for r in rooms))
        room = labels[best[0]]
        listed = (await ctx.session.scalars(select(Profile).where(Profile.listed.is_(True)))).all()
        found = [p for p in listed if room.slug in (p.themes or [])]
        if not found:
            ctx.reply("members.members.none", theme=self._theme_name(room, ctx.lang))
            return
        lines = [f"**{ctx.t('members.members.title', theme=self._theme_name(room, ctx.lang))}**", ""]
        for p in sorted(found, key=lambda p: (p.company or "").lower()):
            lines.append(
                f"- **{escape_md(p.company or '—')}** ({escape_md(self._place(p, ctx.lang))}) — "
                f"{ctx.t('members.field.offers')}: {self._resources(p.offers, ctx.lang)}"
            )
        before = len(ctx.queued)
        ctx.reply_markdown("\n".join(lines))
        await self._echoed(ctx, [p.user_id for p in found], ctx.queued[before:])

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
        rooms = [r for r in await self._theme_rooms(ctx.session)]
        by_slug = {r.slug: r for r in rooms}
        words = text.split()
        targets = []
        while words and words[0].lower() in by_slug:
            targets.append(by_slug[words.pop(0).lower()])
        body = text if not targets else text.split(None, len(targets))[-1]
        if not words or not body.strip():
            raise UsageError("core.error.missing_arg", arg="text")
        targets = targets or rooms
        message = await self._bilingual(body)
        for room in targets:
            for content in notice_contents(f"📣 {message}"):
                ctx.queued.append(self.services.outbox.queue(ctx.session, room.room_id, content))
        ctx.reply("members.announce.done", count=len(targets))

    async def _bilingual(self, text: str) -> str:
        """The text as written plus its translation into the other language(s)."""
        translator = self.services.translator
        if translator is None or not translator.has_models():
            return text
        src = await translator.detect(text)
        targets = {"nl": ["de"], "de": ["nl"], "en": ["nl", "de"]}.get(src or "", [])
        parts = [text]
        for target in targets:
            try:
                parts.append(f"{ {'nl': '🇳🇱', 'de': '🇩🇪'}[target] } {await translator.translate(text, src, target)}")
            except NoModel:
                continue
        return "\n\n".join(parts)

    @command("stats", nl=("statistiek",), de=("statistik",), help="members.stats.help", perm=Perm.MODERATOR)
    async def stats(self, ctx: Context) -> None:
        lines = [f"**{ctx.t('members.stats.title')}**", "", f"**{ctx.t('members.stats.rooms')}**"]
        for room in await self._theme_rooms(ctx.session):
            lines.append(
                f"- {escape_md(self._theme_name(room, ctx.lang))}: {self.services.rooms.member_count(room.room_id)}"
            )
        counts = dict(
            (await ctx.session.execute(select(Onboarding.status, func.count()).group_by(Onboarding.status))).all()
        )
        profiles = await ctx.session.scalar(select(func.count()).select_from(Profile)) or 0
        started = sum(counts.values())
        lines += [
            "",
            f"**{ctx.t('members.stats.onboarding')}**",
            ctx.t(
                "members.stats.onboarding_line",
                started=started,
                done=counts.get("done", 0),
                declined=counts.get("declined", 0),
                stopped=counts.get("stopped", 0),
                profiles=profiles,
            ),
        ]
        ctx.reply_markdown("\n".join(lines))

    # ---- GDPR self-service ---------------------------------------------------------------------

    @command("mydata", nl=("mijngegevens",), de=("meinedaten",), help="members.mydata.help", perm=Perm.ANYONE)
    async def mydata(self, ctx: Context) -> None:
        if not await self._private_chat(ctx):
            ctx.reply("members.private_only")
            return
        data = await self.services.privacy.export(ctx.session, ctx.sender)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        row = self.services.outbox.queue(
            ctx.session,
            ctx.room_id,
            {"filename": "diabot-mydata.json", "mimetype": "application/json", "text": text},
            event_type=FILE_EVENT,
        )
        ctx.queued.append(row)
        await self._echoed(ctx, [ctx.sender], [row])  # carries their data: redacted on !forget
        ctx.reply("members.mydata.sent")

    @command(
        "forget",
        nl=("vergeet",),
        de=("vergiss",),
        help="members.forget.help",
        perm=Perm.ANYONE,
        args=(Arg("confirm", optional=True, choices=("confirm", "bevestig", "bestätigen", "bestaetigen")),),
    )
    async def forget(self, ctx: Context, confirm: str | None) -> None:
        if not await self._private_chat(ctx):
            ctx.reply("members.private_only")
            return
        asked = self._forget_requests.get(ctx.sender)
        if confirm is None or asked is None or time.monotonic() - asked > CONFIRM_WINDOW_S:
            self._forget_requests[ctx.sender] = time.monotonic()
            word = {"nl": "bevestig", "de": "bestätigen"}.get(ctx.lang, "confirm")
            prefix = self.services.router.prefix
            name = self.services.router.display_name(self.forget.__diabot_command__, ctx.lang)
            ctx.reply("members.forget.ask", command=f"{prefix}{name} {word}")
            return
        self._forget_requests.pop(ctx.sender, None)
        ctx.queued.extend(await self.services.privacy.erase(ctx.session, ctx.sender))
        ctx.session.add(ErasureLog(subject_hash=self.services.privacy.subject_hash(ctx.sender)))
        self.services.languages.forget_user(ctx.sender)
        self._active_marked.pop(ctx.sender, None)
        ctx.reply("members.forget.done")
        # Then leave the chat (the outbox keeps the order): nothing of theirs stays open with the bot.
        ctx.queued.append(self.services.outbox.queue(ctx.session, ctx.room_id, {}, event_type=LEAVE_EVENT))

    async def _erase_profile_only(self, ctx: Context, user_id: str) -> None:
        await ctx.session.execute(delete(Profile).where(Profile.user_id == user_id))

    async def _export(self, session, user_id: str) -> dict | None:
        out = {}
        profile = await session.get(Profile, user_id)
        if profile is not None:
            out["profile"] = {c.name: getattr(profile, c.name) for c in Profile.__table__.columns}
        state = await session.get(Onboarding, user_id)
        if state is not None:
            out["onboarding"] = {
                "status": state.status,
                "step": state.step,
                "answers": state.answers,
                "started_at": state.started_at,
            }
        return out or None

    async def _erase(self, session, user_id: str) -> list:
        queued = []
        echoes = (await session.scalars(select(ProfileEcho).where(ProfileEcho.user_id == user_id))).all()
        for echo in echoes:
            if (redaction := await self.services.outbox.retract(session, echo.outbox_id)) is not None:
                queued.append(redaction)
        await session.execute(delete(ProfileEcho).where(ProfileEcho.user_id == user_id))
        await session.execute(delete(Profile).where(Profile.user_id == user_id))
        await session.execute(delete(Onboarding).where(Onboarding.user_id == user_id))
        return queued

    # ---- housekeeping: inactive profiles, changed privacy text ---------------------------------

    async def housekeeping(self) -> None:
        now = utcnow()
        inactive_before = now - timedelta(days=30 * self.config.inactive_months)
        warned_before = now - timedelta(days=self.config.warning_days)
        async with self.services.db.transaction() as session:
            queued = []
            stale = (await session.scalars(select(Profile).where(Profile.last_active_at < inactive_before))).all()
            for profile in stale:
                state = await session.get(Onboarding, profile.user_id)
                lang = (state.answers.get("lang") if state else None) or "en"
                if profile.warned_at is None:
                    profile.warned_at = now
                    if state is not None:
                        for content in notice_contents(
                            self._t(lang, "members.inactive_warning", months=self.config.inactive_months)
                        ):
                            queued.append(self.services.outbox.queue(session, state.dm_room_id, content))
                elif aware(profile.warned_at) < warned_before:
                    queued.extend(await self._erase(session, profile.user_id))
                    session.add(ErasureLog(subject_hash=self.services.privacy.subject_hash(profile.user_id)))
            outdated = (
                await session.scalars(select(Profile).where(Profile.consent_version < self.config.privacy_version))
            ).all()
            for profile in outdated:
                state = await session.get(Onboarding, profile.user_id)
                if state is None or state.status == "active":
                    continue
                state.status, state.step = "active", "consent"
                lang = state.answers.get("lang") or "en"
                consent = self._t(lang, "members.q.consent", version=self.config.privacy_version)
                text = f"{self._t(lang, 'members.privacy_changed')}\n\n{consent}"
                for content in notice_contents(text):
                    queued.append(self.services.outbox.queue(session, state.dm_room_id, content))
        self.services.outbox.notify(queued)
