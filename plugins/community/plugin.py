"""The community space and its themed rooms.

At start the bot makes sure the space and one room per theme of themes.yaml
exist, each created at most once: `create_room(intent=...)` records the
intent first and marks the room, so a stop at any step is resumed with the
same room; the row in the directory is recorded right after. Then it brings
every themed room to the state it should have — a child of the space with
`via` (suggested: the welcome room), joinable by members of the space
(`restricted`, except invite-only themes such as the working group), the
moderators at moderator level — writing only what differs, which also
migrates rooms made by older versions.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import Field
from sqlalchemy import String

from diabot import failpoints
from diabot.commands import Arg, Perm, command, spec_of
from diabot.context import Context
from diabot.directory import SPACE_SLUG, CommunityDirectory, ThemeInfo, room_name, room_topic
from diabot.errors import UsageError
from diabot.formatting import escape_md
from diabot.plugin import Plugin, PluginConfig, Services
from diabot.storage.models import ThemeRoom
from diabot.tasks import cancel_and_wait

log = logging.getLogger(__name__)
SPACE_INTENT = "community.space"


def theme_intent(slug: str) -> str:
    return f"community.theme.{slug}"


class CommunityConfig(PluginConfig):
    space_name: str = "DIA — Ondernemend Emmen × Wirtschaftsverband Emsland"
    space_topic: str = "Grensoverschrijdend ondernemersnetwerk / Grenzüberschreitendes Unternehmernetzwerk"
    # Get moderator power in the space and every themed room (besides bot.admins).
    moderators: list[str] = Field(default_factory=list)
    moderator_level: int = Field(default=50, ge=1, le=100)


class CommunityPlugin(Plugin[CommunityConfig]):
    name = "community"

    def __init__(self, services: Services, config: CommunityConfig):
        super().__init__(services, config)
        self.directory: CommunityDirectory = services.directory
        self._task: asyncio.Task | None = None

    @property
    def moderators(self) -> list[str]:
        return sorted(set(self.config.moderators) | set(self.services.settings.bot.admins))

    @property
    def levels(self) -> dict[str, int]:
        return {user: self.config.moderator_level for user in self.moderators}

    async def start(self) -> None:
        # In the background: a homeserver that is down must not stop the bot.
        self._task = asyncio.create_task(self._ensure_loop(), name="community-ensure")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _ensure_loop(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.ensure_rooms()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not set up the space and its rooms; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    # ---- set-up (idempotent) ----------------------------------------------------------

    async def ensure_rooms(self) -> None:
        space_id = await self._ensure_space()
        for theme in self.directory.configured.values():
            if self.directory.by_slug(theme.slug) is None:  # archived ones stay archived
                name = room_name(theme.nl.name, theme.de.name)
                room_id = await self.services.rooms.create_room(
                    name,
                    theme.topic(),
                    intent=theme_intent(theme.slug),
                    parent=space_id,
                    join_rule=None if theme.invite_only else "restricted",
                )
                info = ThemeInfo(
                    slug=theme.slug,
                    room_id=room_id,
                    names={"nl": theme.nl.name, "de": theme.de.name, "en": theme.en.name if theme.en else name},
                    translation=theme.translation,
                    suggest=theme.suggest,
                    welcome=theme.welcome,
                    archived=False,
                    invite_only=theme.invite_only,
                )
                await self._configure(space_id, info)
                failpoints.hit(f"community:configured:{theme.slug}")
                await self._invite(room_id, self.moderators)
                failpoints.hit(f"community:invited:{theme.slug}")
                # Recorded last: a stop before this replays every step (each idempotent) with the same room.
                await self._record(theme.slug, room_id, theme.nl.name, theme.de.name)
                failpoints.hit(f"community:recorded:{theme.slug}")
                log.info("created a themed room", extra={"slug": theme.slug, "room_id": room_id})
        # Every start: rooms of older versions (and changed themes) get the state they should have.
        for info in self.directory.themes():
            await self._configure(space_id, info)

    async def _ensure_space(self) -> str:
        rooms = self.services.rooms
        row = await self._space_row()
        if row is None:
            name = self.config.space_name
            space_id = await rooms.create_room(
                name, self.config.space_topic, intent=SPACE_INTENT, space=True, invite=self.moderators
            )
            await self._record(SPACE_SLUG, space_id, name, name)
            failpoints.hit("community:space-recorded")
            log.info("created the community space", extra={"room_id": space_id})
        else:
            space_id = row
        await self._ensure_power(space_id)
        return space_id

    async def _space_row(self) -> str | None:
        async with self.services.db.transaction() as session:
            row = await session.get(ThemeRoom, SPACE_SLUG)
            return row.room_id if row is not None else None

    async def _record(self, slug: str, room_id: str, nl: str, de: str) -> None:
        async with self.services.db.transaction() as session:
            self.directory.remember(session, slug, room_id, nl, de)

    async def _configure(self, space_id: str, theme: ThemeInfo) -> None:
        """Child of the space, who may join, powers. Before any invitation: a
        moderator who accepts it finds the room already in the space."""
        server = self.services.bot_user_id.split(":", 1)[1]
        child: dict[str, object] = {"via": [server]}
        if theme.welcome:
            child["suggested"] = True
        await self._ensure_state(space_id, "m.space.child", child, state_key=theme.room_id)
        failpoints.hit(f"community:child:{theme.slug}")
        if theme.invite_only:
            rule: dict[str, object] = {"join_rule": "invite"}
        else:
            # Needs room version 8+ (Synapse's default is 10); older rooms keep their rule.
            rule = {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": space_id}]}
        try:
            await self._ensure_state(theme.room_id, "m.room.join_rules", rule)
        except RuntimeError:
            log.warning("could not set the join rule of a themed room", extra={"slug": theme.slug}, exc_info=True)
        await self._ensure_power(theme.room_id)

    async def _invite(self, room_id: str, users: list[str]) -> None:
        """Only when a room is made: a moderator who left a room later is not asked back at every start."""
        for user in users:
            if not self.services.rooms.is_member(room_id, user):
                await self.services.rooms.invite(room_id, user)

    async def _ensure_state(self, room_id: str, event_type: str, content: dict, state_key: str = "") -> None:
        if await self.services.rooms.get_state(room_id, event_type, state_key) != content:
            await self.services.rooms.put_state(room_id, event_type, content, state_key=state_key)

    async def _ensure_power(self, room_id: str) -> None:
        current = await self.services.rooms.get_state(room_id, "m.room.power_levels") or {}
        users = current.get("users", {})
        if any(users.get(user) != level for user, level in self.levels.items()):
            await self.services.rooms.set_power(room_id, self.levels)

    # ---- lookups ----------------------------------------------------------------------

    def _find(self, text: str, include_archived: bool = False) -> ThemeInfo:
        theme = self.directory.find(text, include_archived)
        if theme is None:
            slugs = ", ".join(t.slug for t in self.directory.themes())
            raise UsageError("community.no_such_theme", theme=text, themes=slugs)
        return theme

    # ---- member commands --------------------------------------------------------------

    @command("rooms", nl=("ruimtes", "kamers"), de=("räume", "raeume"), help="community.rooms.help", perm=Perm.MEMBER)
    async def list_rooms(self, ctx: Context) -> None:
        themes = self.directory.themes()
        if not themes:
            ctx.reply("community.rooms.none")
            return
        lines = [f"**{ctx.t('community.rooms.title')}**", ""]
        for theme in themes:
            members = ctx.t("community.rooms.members", count=self.services.rooms.member_count(theme.room_id))
            lines.append(f"- **{escape_md(theme.name(ctx.lang))}** (`{theme.slug}`) — {members}")
        join = self.services.router.display_name(spec_of(self.join), ctx.lang)
        lines += ["", ctx.t("community.rooms.how_to_join", command=f"{self.services.router.prefix}{join}")]
        ctx.reply_markdown("\n".join(lines))

    @command(
        "join",
        nl=("meedoen", "deelnemen"),
        de=("beitreten", "mitmachen"),
        help="community.join.help",
        perm=Perm.MEMBER,
        args=(Arg("theme", rest=True),),
    )
    async def join(self, ctx: Context, theme: str) -> None:
        found = self._find(theme)
        name = found.name(ctx.lang)
        if self.services.rooms.is_member(found.room_id, ctx.sender):
            ctx.reply("community.join.already", room=name)
            return
        if found.invite_only and not await self.services.permissions.is_community_moderator(ctx.sender):
            ctx.reply("community.join.invite_only", room=name)
            return
        if not await self.services.rooms.invite(found.room_id, ctx.sender):
            ctx.reply("community.join.failed", room=name)
            return
        ctx.reply("community.join.invited", room=name)

    # ---- moderator commands ----------------------------------------------------------------

    @command(
        "room create",
        nl=("ruimte maak",),
        de=("raum erstellen",),
        help="community.create.help",
        perm=Perm.MODERATOR,
        args=(Arg("slug"), Arg("nl_name"), Arg("de_name")),
    )
    async def create(self, ctx: Context, slug: str, nl_name: str, de_name: str) -> None:
        slug = slug.lower()
        if not slug.replace("-", "").isalnum() or slug == SPACE_SLUG:
            raise UsageError("community.create.bad_slug", slug=slug)
        # Checked before the room exists: PostgreSQL refuses longer values (VARCHAR(n)).
        for arg, value, column in (
            ("slug", slug, "slug"),
            ("nl_name", nl_name, "name_nl"),
            ("de_name", de_name, "name_de"),
        ):
            column_type = ThemeRoom.__table__.c[column].type
            limit = column_type.length if isinstance(column_type, String) and column_type.length else 255
            if len(value) > limit:
                raise UsageError("community.too_long", arg=arg, max=limit, length=len(value))
        if self.directory.by_slug(slug) is not None:
            raise UsageError("community.create.exists", slug=slug)
        space_id = self.directory.space_id
        if space_id is None:
            ctx.reply("community.not_ready")
            return
        room_id = await self.services.rooms.create_room(
            room_name(nl_name, de_name), "", intent=theme_intent(slug), parent=space_id, join_rule="restricted"
        )
        self.directory.remember(ctx.session, slug, room_id, nl_name, de_name)
        # Not yet in the directory (that happens at commit): configure it as it will be listed.
        theme = ThemeInfo(
            slug=slug,
            room_id=room_id,
            names={"nl": nl_name, "de": de_name, "en": room_name(nl_name, de_name)},
            translation="auto",
            suggest=True,
            welcome=False,
            archived=False,
        )
        await self._configure(space_id, theme)
        await self._invite(room_id, sorted({*self.moderators, ctx.sender}))
        ctx.reply("community.create.done", room=room_name(nl_name, de_name), slug=slug)

    @command(
        "room topic",
        nl=("ruimte onderwerp",),
        de=("raum thema",),
        help="community.topic.help",
        perm=Perm.MODERATOR,
        args=(Arg("theme"), Arg("nl_topic"), Arg("de_topic")),
    )
    async def topic(self, ctx: Context, theme: str, nl_topic: str, de_topic: str) -> None:
        found = self._find(theme)
        await self.services.rooms.put_state(found.room_id, "m.room.topic", {"topic": room_topic(nl_topic, de_topic)})
        ctx.reply("community.topic.done", room=found.name(ctx.lang))

    @command(
        "room archive",
        nl=("ruimte archiveer",),
        de=("raum archivieren",),
        help="community.archive.help",
        perm=Perm.MODERATOR,
        args=(Arg("theme"),),
    )
    async def archive(self, ctx: Context, theme: str) -> None:
        found = self._find(theme)
        if self.directory.space_id is not None:
            # An empty m.space.child removes the room from the space.
            await self.services.rooms.put_state(self.directory.space_id, "m.space.child", {}, state_key=found.room_id)
        await self.directory.archive(ctx.session, found.slug)
        ctx.reply("community.archive.done", room=found.name(ctx.lang))
