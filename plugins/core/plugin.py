"""Built-in commands: help, ping, the user's language and the room's, and the
GDPR self-service (!mydata, !forget) over every plugin's part (diabot/privacy.py)."""

from __future__ import annotations

import json
import time

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.commands import Arg, Perm, command, on, spec_of
from diabot.context import Context
from diabot.direct import direct_intent
from diabot.errors import UsageError
from diabot.events import Undecryptable
from diabot.formatting import Markdown, code_span, reply_relation
from diabot.i18n import LANGUAGES
from diabot.outbox import LEAVE_EVENT
from diabot.plugin import Plugin, PluginConfig, Services
from diabot.privacy import ErasureReason
from diabot.storage.models import RoomIntent

# !forget asks first; the confirmation counts for this long.
CONFIRM_WINDOW_S = 600
CONFIRM_WORDS = {"nl": "bevestig", "de": "bestätigen", "en": "confirm"}


class CorePlugin(Plugin[PluginConfig]):
    name = "core"

    def __init__(self, services: Services, config: PluginConfig):
        super().__init__(services, config)
        self._forget_asked: dict[str, float] = {}  # user -> when !forget asked them to confirm (monotonic)
        services.privacy.register("direct_chat", self._export_direct_chat, self._erase_direct_chat)
        services.privacy.recognise_private_chat(self._is_direct_chat)
        services.privacy.forget_in_memory(services.languages.forget_user)

    async def _is_direct_chat(self, session: AsyncSession, user_id: str, room_id: str) -> bool:
        """The encrypted direct chat the bot opened with the user."""
        return await self.services.direct.find(user_id) == room_id

    async def _export_direct_chat(self, session: AsyncSession, user_id: str) -> dict[str, str] | None:
        row = await session.get(RoomIntent, direct_intent(user_id))
        return {"room_id": row.room_id} if row is not None and row.room_id else None

    async def _erase_direct_chat(self, session: AsyncSession, user_id: str) -> None:
        """The record of the direct chat names the user (the bot leaves the chat after !forget)."""
        await session.execute(delete(RoomIntent).where(RoomIntent.key == direct_intent(user_id)))

    @command(
        "help",
        # "help" is typed in every language: it names none, so the room's language answers it.
        nl=("hulp", "help"),
        de=("hilfe", "help"),
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
                f"{ctx.usage_markdown(spec)}\n\n{ctx.t(spec.help)}\n\n{ctx.t('core.help.aliases', names=names)}"
            )
            return
        lines = [f"**{ctx.t('core.help.title')}**", ""]
        for bound in sorted(router.commands, key=lambda b: router.display_name(b.spec, ctx.lang)):
            if await perms.allows(bound.spec.perm, ctx.room_id, ctx.sender):
                lines.append(f"- `{ctx.usage(bound.spec)}` — {ctx.t(bound.spec.help)}")
        lines += [
            "",
            ctx.t("core.help.more", help=f"{router.prefix}{router.display_name(spec_of(self.help), ctx.lang)}"),
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

    # ---- GDPR self-service -------------------------------------------------------------------

    @command("mydata", nl=("mijngegevens",), de=("meinedaten",), help="core.mydata.help", perm=Perm.ANYONE)
    async def mydata(self, ctx: Context) -> None:
        privacy = self.services.privacy
        if not await privacy.is_private_chat(ctx.session, ctx.sender, ctx.room_id):
            ctx.reply("core.private_only")
            return
        data = await privacy.export(ctx.session, ctx.sender)
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        export = ctx.file(ctx.room_id, "diabot-mydata.json", text, mimetype="application/json")
        ctx.ledger.record(export, "privacy.export", user_id=ctx.sender)  # carries their data: redacted on !forget
        ctx.reply("core.mydata.sent")

    @command(
        "forget",
        nl=("vergeet",),
        de=("vergiss",),
        help="core.forget.help",
        perm=Perm.ANYONE,
        args=(Arg("confirm", optional=True, choices=("confirm", "bevestig", "bestätigen", "bestaetigen")),),
    )
    async def forget(self, ctx: Context, confirm: str | None) -> None:
        privacy = self.services.privacy
        if not await privacy.is_private_chat(ctx.session, ctx.sender, ctx.room_id):
            ctx.reply("core.private_only")
            return
        asked = self._forget_asked.get(ctx.sender)
        if confirm is None or asked is None or time.monotonic() - asked > CONFIRM_WINDOW_S:
            self._forget_asked[ctx.sender] = time.monotonic()
            router = self.services.router
            name = router.display_name(spec_of(self.forget), ctx.lang)
            ctx.reply("core.forget.ask", command=f"{router.prefix}{name} {CONFIRM_WORDS.get(ctx.lang, 'confirm')}")
            return
        self._forget_asked.pop(ctx.sender, None)
        await privacy.erase(ctx, ctx.sender, ErasureReason.REQUEST)
        ctx.reply("core.forget.done")
        # Then leave the chat (the outbox keeps the order): nothing of theirs stays open with the bot.
        ctx.raw(ctx.room_id, LEAVE_EVENT, {})
