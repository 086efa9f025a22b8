"""The community space and its themed rooms.

At start the bot makes sure the space and one room per theme of
config/themes.yaml exist (creating what is missing, never duplicating: the
theme_rooms table remembers what it made), with both-language names and
topics, itself as admin and the moderators at moderator level.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pydantic import Field
from rapidfuzz import fuzz, process
from sqlalchemy import select

from diabot.commands import Arg, Perm, command
from diabot.context import Context
from diabot.errors import UsageError
from diabot.formatting import escape_md
from diabot.plugin import Plugin, PluginConfig
from diabot.tasks import cancel_and_wait

from .models import ThemeRoom
from .themes import load_themes, room_name, room_topic

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
SPACE = "_space"


class CommunityConfig(PluginConfig):
    # Relative paths are taken from the repository's config/ folder.
    themes_file: Path = ROOT / "config" / "themes.yaml"
    space_name: str = "DIA — Ondernemend Emmen × Wirtschaftsverband Emsland"
    space_topic: str = "Grensoverschrijdend ondernemersnetwerk / Grenzüberschreitendes Unternehmernetzwerk"
    # Get moderator power in the space and every themed room (besides bot.admins).
    moderators: list[str] = Field(default_factory=list)
    moderator_level: int = Field(default=50, ge=1, le=100)


class CommunityPlugin(Plugin):
    name = "community"
    Config = CommunityConfig

    def __init__(self, services, config: CommunityConfig):
        super().__init__(services, config)
        path = config.themes_file if config.themes_file.is_absolute() else ROOT / "config" / config.themes_file
        self.themes = load_themes(path)
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def moderators(self) -> list[str]:
        return sorted(set(self.config.moderators) | set(self.services.settings.bot.admins))

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
                self.ready.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not set up the space and its rooms; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def ensure_rooms(self) -> None:
        rooms = self.services.rooms
        levels = {user: self.config.moderator_level for user in self.moderators}
        async with self.services.db.sessions() as session:
            known = {row.slug: row for row in (await session.scalars(select(ThemeRoom))).all()}
        space = known.get(SPACE)
        if space is None:
            space_id = await rooms.create_room(
                self.config.space_name, self.config.space_topic, space=True, invite=self.moderators
            )
            await rooms.set_power(space_id, levels)
            await self._remember(SPACE, space_id, self.config.space_name, self.config.space_name)
            log.info("created the community space", extra={"room_id": space_id})
        else:
            space_id = space.room_id
        if self.services.community is not None:
            # Membership of this space is what makes someone a member; its power levels make moderators.
            await self.services.community.set_space(space_id)
        for theme in self.themes:
            if theme.slug in known:
                continue
            await self._create_theme_room(
                space_id, theme.slug, theme.nl.name, theme.de.name, theme.topic(), theme.suggest, levels
            )

    async def _create_theme_room(
        self, space_id: str, slug: str, nl: str, de: str, topic: str, suggested: bool, levels: dict[str, int]
    ) -> str:
        rooms = self.services.rooms
        room_id = await rooms.create_room(room_name(nl, de), topic, parent=space_id, invite=self.moderators)
        await rooms.set_power(room_id, levels)
        server = self.services.bot_user_id.split(":", 1)[1]
        await rooms.put_state(space_id, "m.space.child", {"via": [server], "suggested": suggested}, state_key=room_id)
        await self._remember(slug, room_id, nl, de)
        log.info("created a themed room", extra={"slug": slug, "room_id": room_id})
        return room_id

    async def _remember(self, slug: str, room_id: str, nl: str, de: str) -> None:
        async with self.services.db.transaction() as session:
            session.add(ThemeRoom(slug=slug, room_id=room_id, name_nl=nl, name_de=de, archived=False))

    # ---- lookups ----------------------------------------------------------------------

    async def _rooms(self, ctx: Context, include_archived: bool = False) -> list[ThemeRoom]:
        query = select(ThemeRoom).where(ThemeRoom.slug != SPACE).order_by(ThemeRoom.created_at, ThemeRoom.slug)
        if not include_archived:
            query = query.where(ThemeRoom.archived.is_(False))
        return list((await ctx.session.scalars(query)).all())

    async def _find(self, ctx: Context, text: str, include_archived: bool = False) -> ThemeRoom:
        rooms = await self._rooms(ctx, include_archived)
        choices = {}
        for room in rooms:
            for label in (room.slug, room.name_nl, room.name_de):
                choices[label.lower()] = room
        best = process.extractOne(text.lower(), list(choices), scorer=fuzz.WRatio, score_cutoff=75)
        if best is None:
            raise UsageError("community.no_such_theme", theme=text, themes=", ".join(r.slug for r in rooms))
        return choices[best[0]]

    def _name(self, room: ThemeRoom, lang: str) -> str:
        return room.name_de if lang == "de" else room.name_nl if lang == "nl" else room_name(room.name_nl, room.name_de)

    # ---- member commands --------------------------------------------------------------

    @command("rooms", nl=("ruimtes", "kamers"), de=("räume", "raeume"), help="community.rooms.help", perm=Perm.MEMBER)
    async def list_rooms(self, ctx: Context) -> None:
        rooms = await self._rooms(ctx)
        if not rooms:
            ctx.reply("community.rooms.none")
            return
        lines = [f"**{ctx.t('community.rooms.title')}**", ""]
        for room in rooms:
            members = ctx.t("community.rooms.members", count=self.services.rooms.member_count(room.room_id))
            lines.append(f"- **{escape_md(self._name(room, ctx.lang))}** (`{room.slug}`) — {members}")
        join = self.services.router.display_name(self.join.__diabot_command__, ctx.lang)
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
        room = await self._find(ctx, theme)
        if self.services.rooms.is_member(room.room_id, ctx.sender):
            ctx.reply("community.join.already", room=self._name(room, ctx.lang))
            return
        if not await self.services.rooms.invite(room.room_id, ctx.sender):
            ctx.reply("community.join.failed", room=self._name(room, ctx.lang))
            return
        ctx.reply("community.join.invited", room=self._name(room, ctx.lang))

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
        if not slug.replace("-", "").isalnum() or slug == SPACE:
            raise UsageError("community.create.bad_slug", slug=slug)
        # Checked before the room exists: PostgreSQL refuses longer values (VARCHAR(n)).
        for arg, value, column in (
            ("slug", slug, "slug"),
            ("nl_name", nl_name, "name_nl"),
            ("de_name", de_name, "name_de"),
        ):
            limit = ThemeRoom.__table__.c[column].type.length
            if len(value) > limit:
                raise UsageError("community.too_long", arg=arg, max=limit, length=len(value))
        if await ctx.session.get(ThemeRoom, slug) is not None:
            raise UsageError("community.create.exists", slug=slug)
        space = await ctx.session.get(ThemeRoom, SPACE)
        if space is None:
            ctx.reply("community.not_ready")
            return
        levels = {user: self.config.moderator_level for user in self.moderators}
        room_id = await self._create_theme_room(space.room_id, slug, nl_name, de_name, "", True, levels)
        await self.services.rooms.invite(room_id, ctx.sender)
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
        room = await self._find(ctx, theme)
        await self.services.rooms.put_state(room.room_id, "m.room.topic", {"topic": room_topic(nl_topic, de_topic)})
        ctx.reply("community.topic.done", room=self._name(room, ctx.lang))

    @command(
        "room archive",
        nl=("ruimte archiveer",),
        de=("raum archivieren",),
        help="community.archive.help",
        perm=Perm.MODERATOR,
        args=(Arg("theme"),),
    )
    async def archive(self, ctx: Context, theme: str) -> None:
        room = await self._find(ctx, theme)
        space = await ctx.session.get(ThemeRoom, SPACE)
        if space is not None:
            # An empty m.space.child removes the room from the space.
            await self.services.rooms.put_state(space.room_id, "m.space.child", {}, state_key=room.room_id)
        room.archived = True
        ctx.reply("community.archive.done", room=self._name(room, ctx.lang))
