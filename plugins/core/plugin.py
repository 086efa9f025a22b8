"""Built-in commands: help, ping, the user's language and the room's."""

from __future__ import annotations

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Undecryptable
from diabot.formatting import Markdown, code_span, reply_relation
from diabot.i18n import LANGUAGES
from diabot.plugin import Plugin


class CorePlugin(Plugin):
    name = "core"

    @command(
        "help",
        nl=("hulp",),
        de=("hilfe",),
        help="core.help.help",
        perm=Perm.ANYONE,
        args=(Arg("command", optional=True, rest=True),),
    )
    async def help(self, ctx: Context, command: str | None) -> None:
        router = self.services.router
        perms = self.services.permissions
        if command:
            bound = router.find(command)
            if bound is None:
                raise UsageError("core.help.no_such", name=command)
            spec = bound.spec
            names = Markdown(", ".join(code_span(f"{router.prefix}{n}") for n in router.names_of(spec)))
            ctx.reply_markdown(
                f"`{ctx.usage(spec)}`\n\n{ctx.t(spec.help)}\n\n{ctx.t('core.help.aliases', names=names)}"
            )
            return
        lines = [f"**{ctx.t('core.help.title')}**", ""]
        for bound in sorted(router.commands, key=lambda b: router.display_name(b.spec, ctx.lang)):
            if await perms.allows(bound.spec.perm, ctx.room_id, ctx.sender):
                lines.append(f"- `{ctx.usage(bound.spec)}` — {ctx.t(bound.spec.help)}")
        lines += [
            "",
            ctx.t(
                "core.help.more", help=f"{router.prefix}{router.display_name(self.help.__diabot_command__, ctx.lang)}"
            ),
        ]
        ctx.reply_markdown("\n".join(lines))

    @command("ping", help="core.ping.help", perm=Perm.ANYONE)
    async def ping(self, ctx: Context) -> None:
        ctx.reply("core.ping.pong")

    @command(
        "lang",
        nl=("taal",),
        de=("sprache",),
        help="core.lang.help",
        perm=Perm.ANYONE,
        args=(Arg("language", choices=LANGUAGES, optional=True),),
    )
    async def lang(self, ctx: Context, language: str | None) -> None:
        if language is None:
            ctx.reply("core.lang.current", language=ctx.t(f"core.language.{ctx.lang}"))
            return
        await self.services.languages.set_user(ctx.session, ctx.sender, language)
        ctx.lang = language
        ctx.reply("core.lang.set", language=ctx.t(f"core.language.{language}"))

    @command(
        "roomlang",
        nl=("kamertaal",),
        de=("raumsprache",),
        help="core.roomlang.help",
        perm=Perm.ROOM_MODERATOR,
        args=(
            Arg(
                "language",
                choices=(*LANGUAGES, "default"),
            ),
        ),
    )
    async def roomlang(self, ctx: Context, language: str) -> None:
        value = None if language == "default" else language
        await self.services.languages.set_room(ctx.session, ctx.room_id, value)
        shown = ctx.t(f"core.language.{value}") if value else ctx.t("core.roomlang.default")
        ctx.reply("core.roomlang.set", language=shown)

    @on(Undecryptable)
    async def undecryptable(self, ctx: Context, event: Undecryptable) -> None:
        """The sender's message never became readable: ask once (encrypted, in their language) to send it again."""
        ctx.send_markdown(ctx.room_id, ctx.t("core.undecryptable"), relates_to=reply_relation(event.target, None))
