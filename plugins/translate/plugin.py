"""Inline Dutch <-> German translation.

Handlers only record a TranslationJob in the event's transaction (fast, and
durable); the worker (worker.py) turns jobs into notices. Edits edit the
translation, redactions redact it: what was sent about which message is in
the core ledger. Without the models a room needs, the bot says so and how to
install them (needs.py) rather than promise translations; models installed
while it runs are looked for before any answer that depends on them.
"""

from __future__ import annotations

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Message, Reaction, Redaction
from diabot.ledger import LedgerEntry
from diabot.plugin import Plugin, Services

from .config import TranslateConfig
from .models import TranslateRoom, TranslateUser, TranslationJob
from .needs import Missing, auto_directions, missing
from .worker import EDIT, LANG_CHOICES, TRANSLATION, TranslationWorker, existing_translation

FLAGS = {"🇩🇪": "de", "🇳🇱": "nl", "🇬🇧": "en", "🇺🇸": "en"}
ON_WORDS = ("on", "aan", "an")


def _ours(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Translations and their edits (other plugins' events about a message are theirs)."""
    return [entry for entry in entries if entry.purpose in (TRANSLATION, EDIT)]


# The room modes by the words members use for them (nl / de / en).
MODE_WORDS = {
    "auto": "auto",
    "automatisch": "auto",
    "reactions": "reactions",
    "reacties": "reactions",
    "reaktionen": "reactions",
    "off": "off",
    "uit": "off",
    "aus": "off",
}


class TranslatePlugin(Plugin[TranslateConfig]):
    name = "translate"

    def __init__(self, services: Services, config: TranslateConfig):
        super().__init__(services, config)
        self.translator = services.translator
        self.worker = TranslationWorker(services, config, self.translator) if self.translator is not None else None
        services.privacy.register("translation", self._export, self._erase)

    async def _export(self, session: AsyncSession, user_id: str) -> dict | None:
        row = await session.get(TranslateUser, user_id)
        return {"translate_my_messages": row.translate_mine} if row else None

    async def _erase(self, session: AsyncSession, user_id: str) -> None:
        """The setting and waiting jobs. The bot's events with the member's
        words (translations, their edits) are the ledger's: the core retracts
        every entry naming them."""
        await session.execute(delete(TranslateUser).where(TranslateUser.user_id == user_id))
        await session.execute(
            delete(TranslationJob).where((TranslationJob.sender == user_id) | (TranslationJob.requester == user_id))
        )

    async def start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()

    # ---- settings ------------------------------------------------------------------

    async def room_mode(self, ctx: Context) -> str:
        """A moderator's choice > the config's room_modes > the room's theme > the default."""
        row = await ctx.session.get(TranslateRoom, ctx.room_id)
        if row is not None:
            return row.mode
        if ctx.room_id in self.config.room_modes:
            return self.config.room_modes[ctx.room_id]
        # Themed rooms start with the mode of their theme (themes.yaml).
        theme = self.services.directory.theme_of(ctx.room_id)
        return theme.translation if theme is not None else self.config.default_mode

    async def _user(self, ctx: Context) -> TranslateUser:
        row = await ctx.session.get(TranslateUser, ctx.sender)
        if row is None:
            row = TranslateUser(user_id=ctx.sender, translate_mine=True)
            ctx.session.add(row)
        return row

    def _enqueue(self, ctx: Context, **fields: object) -> None:
        worker = self.worker
        if worker is None:
            return
        ctx.session.add(TranslationJob(room_id=ctx.room_id, lang=ctx.lang, attempts=0, **fields))
        # Wake the worker once this transaction has committed.
        event.listen(ctx.session.sync_session, "after_commit", lambda _s: worker.wake(), once=True)

    # ---- handlers -------------------------------------------------------------------

    @on(Message)
    async def on_message(self, ctx: Context, msg: Message) -> None:
        if msg.msgtype not in ("m.text", "m.emote") or self.translator is None:
            return
        if msg.is_edit:
            original = msg.relates_to.get("event_id")
            if original and await ctx.ledger.find(TRANSLATION, subject=original):
                self._enqueue(
                    ctx,
                    kind="edit",
                    source_event_id=original,
                    sender=msg.sender,
                    text=msg.body,
                    targets=[],
                    thread_root=None,
                )
            return
        if not self.config.worth_translating(msg.body) or await self.room_mode(ctx) != "auto":
            return
        if self.services.rooms.member_count(msg.room_id) <= 2:
            return  # a direct chat with the bot: nobody to translate for
        user = await ctx.session.get(TranslateUser, msg.sender)
        if user is not None and not user.translate_mine:
            return
        if not self.services.limits.allows("translations", msg.sender):
            return  # one person's flood must not occupy the model for everyone; the message itself stays
        self._enqueue(
            ctx,
            kind="auto",
            source_event_id=msg.event_id,
            sender=msg.sender,
            text=msg.body,
            targets=[],
            thread_root=msg.thread_root,
        )

    @on(Reaction)
    async def on_reaction(self, ctx: Context, reaction: Reaction) -> None:
        target = FLAGS.get(reaction.key.replace("\ufe0f", ""))
        if target is None or self.translator is None or await self.room_mode(ctx) != "reactions":
            return
        # A re-reaction (or a second person's) reuses the translation that is
        # there or on its way: no second copy, no second run of the model.
        if await existing_translation(ctx.ledger, reaction.target, target) is not None:
            return
        pending = (
            await ctx.session.scalars(
                select(TranslationJob).where(
                    TranslationJob.source_event_id == reaction.target, TranslationJob.kind == "reaction"
                )
            )
        ).all()
        if any(job.targets == [target] for job in pending):
            return
        self._enqueue(
            ctx,
            kind="reaction",
            source_event_id=reaction.target,
            sender="",
            requester=reaction.sender,
            text=None,
            targets=[target],
            thread_root=None,
        )

    @on(Redaction)
    async def on_redaction(self, ctx: Context, redaction: Redaction) -> None:
        # A translated message redacted: its translations and their edits go too.
        await ctx.ledger.retract(_ours(await ctx.ledger.find(subject=redaction.redacts)))
        await ctx.session.execute(delete(TranslationJob).where(TranslationJob.source_event_id == redaction.redacts))
        # One of our translations redacted (by a moderator): forget it, so a
        # new request makes a new one instead of pointing at the redacted one.
        await ctx.ledger.forget(_ours(await ctx.ledger.find(room_id=ctx.room_id, event_id=redaction.redacts)))

    # ---- commands ---------------------------------------------------------------------

    @command(
        "translate",
        nl=("vertaal",),
        de=("übersetze", "uebersetze"),
        help="translate.help",
        perm=Perm.ANYONE,
        args=(Arg("language", choices=LANG_CHOICES, optional=True),),
    )
    async def translate(self, ctx: Context, language: str | None) -> None:
        msg = ctx.message
        if msg.reply_to is None:
            raise UsageError("translate.need_reply")
        if not await self._require_models(ctx):
            return
        self._enqueue(
            ctx,
            kind="command",
            source_event_id=msg.reply_to,
            reply_event_id=msg.event_id,
            sender="",
            requester=msg.sender,
            text=None,
            targets=[language or ctx.lang],
            thread_root=msg.thread_root,
        )

    @command(
        "translate mode",
        nl=("vertaal modus",),
        de=("übersetze modus", "uebersetze modus"),
        help="translate.mode.help",
        perm=Perm.ROOM_MODERATOR,
        args=(Arg("mode", choices=tuple(MODE_WORDS)),),
    )
    async def set_mode(self, ctx: Context, mode: str) -> None:
        mode = MODE_WORDS[mode]
        row = await ctx.session.get(TranslateRoom, ctx.room_id)
        if row is None:
            ctx.session.add(TranslateRoom(room_id=ctx.room_id, mode=mode))
        else:
            row.mode = mode
        if mode != "auto":
            ctx.reply(f"translate.mode.{mode}")
            return
        # Set either way (it works once the models are there), but promise nothing the bot cannot do.
        lacking = await self._missing()
        command = lacking.command(self.services.settings.config_file)
        if not lacking.any_installed:
            ctx.reply("translate.mode.auto_no_model", command=command)
        elif lacking.directions:
            ctx.reply("translate.mode.auto_missing", directions=lacking.directions_text(), command=command)
        else:
            ctx.reply("translate.mode.auto")

    @command(
        "translate status",
        nl=("vertaal status",),
        de=("übersetze status", "uebersetze status"),
        help="translate.status.help",
        perm=Perm.ANYONE,
    )
    async def status(self, ctx: Context) -> None:
        lines = [ctx.t("translate.status.mode", mode=ctx.t(f"translate.mode_name.{await self.room_mode(ctx)}"))]
        lacking = await self._missing()
        command = lacking.command(self.services.settings.config_file)
        if self.translator is None or not lacking.any_installed:
            lines.append(ctx.t("translate.no_model", command=command))
        else:
            for src, tgt in (("nl", "de"), ("de", "nl"), ("en", "nl"), ("en", "de")):
                route = self.translator.engine.route(src, tgt)
                how = (
                    ctx.t("translate.status.missing")
                    if route is None
                    else (ctx.t("translate.status.direct") if len(route) == 1 else ctx.t("translate.status.pivot"))
                )
                lines.append(f"- {src.upper()}→{tgt.upper()}: {how}")
            if lacking.pairs:
                lines.append(ctx.t("translate.status.install", command=command))
        ctx.reply_markdown("\n".join(lines))

    @command(
        "translate me",
        nl=("vertaal mij",),
        de=("übersetze mich", "uebersetze mich"),
        help="translate.me.help",
        perm=Perm.ANYONE,
        args=(Arg("setting", choices=("on", "off", "aan", "uit", "an", "aus")),),
    )
    async def me(self, ctx: Context, setting: str) -> None:
        user = await self._user(ctx)
        user.translate_mine = setting in ON_WORDS
        ctx.reply("translate.me.on" if user.translate_mine else "translate.me.off")

    async def _missing(self) -> Missing:
        """What the auto mode lacks, after a look for models installed meanwhile."""
        if self.translator is not None:
            await self.translator.refresh_models()
        return missing(self.translator, auto_directions(self.config.english_targets))

    async def _require_models(self, ctx: Context) -> bool:
        lacking = await self._missing()
        if self.translator is None or not lacking.any_installed:
            ctx.reply("translate.no_model", command=lacking.command(self.services.settings.config_file))
            return False
        return True
