"""Inline Dutch <-> German translation.

Handlers only record a TranslationJob in the event's transaction (fast, and
durable); one worker turns jobs into notices, many at a time so the
translator can batch them. Edits edit the translation, redactions redact it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from pydantic import Field
from sqlalchemy import delete, event, select

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import UsageError
from diabot.events import Message, Reaction, Redaction
from diabot.formatting import Markdown, notice_contents, reply_relation
from diabot.plugin import Plugin, PluginConfig
from diabot.storage.models import ErasureLog, OutboxMessage
from diabot.tasks import cancel_and_wait
from diabot.translation import NoModel

from .models import TranslateRoom, TranslateUser, TranslationJob, TranslationLink

log = logging.getLogger(__name__)
Mode = Literal["auto", "reactions", "off"]
FLAGS = {"🇩🇪": "de", "🇳🇱": "nl", "🇬🇧": "en", "🇺🇸": "en"}
LANG_CHOICES = ("nl", "de", "en")
# In auto mode: a message in X gets translations into OTHER[X].
OTHER = {"nl": ["de"], "de": ["nl"]}


class TranslateConfig(PluginConfig):
    default_mode: Mode = "auto"
    room_modes: dict[str, Mode] = Field(default_factory=dict)  # room id -> mode, before a moderator sets one
    english_targets: list[Literal["nl", "de"]] = Field(default_factory=lambda: ["nl", "de"])
    min_chars: int = Field(default=10, ge=0)
    min_words: int = Field(default=2, ge=1)
    # False: translations are replies instead of threads.
    threads: bool = True
    batch: int = Field(default=64, ge=1)


class TranslatePlugin(Plugin):
    name = "translate"
    Config = TranslateConfig

    def __init__(self, services, config: TranslateConfig):
        super().__init__(services, config)
        self.translator = services.translator
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        if services.privacy is not None:
            services.privacy.register("translation", self._export, self._erase)

    async def _export(self, session, user_id: str) -> dict | None:
        row = await session.get(TranslateUser, user_id)
        return {"translate_my_messages": row.translate_mine, "reads_both_languages": row.reads_both} if row else None

    async def _erase(self, session, user_id: str) -> list:
        """Redact every bot event that carries the member's translated words
        (translations and their edits), then forget the records. Unsent ones
        are dropped from the outbox instead."""
        links = (await session.scalars(select(TranslationLink).where(TranslationLink.author == user_id))).all()
        queued = await self._redact(session, links)
        await session.execute(delete(TranslateUser).where(TranslateUser.user_id == user_id))
        await session.execute(
            delete(TranslationJob).where((TranslationJob.sender == user_id) | (TranslationJob.requester == user_id))
        )
        return queued

    async def start(self) -> None:
        self._task = asyncio.create_task(self._work(), name="translate-worker")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    # ---- settings ------------------------------------------------------------------

    async def room_mode(self, ctx: Context) -> str:
        """A moderator's choice > the config's room_modes > the room's theme > the default."""
        row = await ctx.session.get(TranslateRoom, ctx.room_id)
        if row is not None:
            return row.mode
        if ctx.room_id in self.config.room_modes:
            return self.config.room_modes[ctx.room_id]
        # Themed rooms start with the mode of their theme (themes.yaml).
        theme = self.services.directory.theme_of(ctx.room_id) if self.services.directory else None
        return theme.translation if theme is not None else self.config.default_mode

    async def _user(self, ctx: Context) -> TranslateUser:
        row = await ctx.session.get(TranslateUser, ctx.sender)
        if row is None:
            row = TranslateUser(user_id=ctx.sender, translate_mine=True, reads_both=False)
            ctx.session.add(row)
        return row

    def _enqueue(self, ctx: Context, **fields) -> None:
        ctx.session.add(TranslationJob(room_id=ctx.room_id, lang=ctx.lang, attempts=0, **fields))
        # Wake the worker once this transaction has committed.
        event.listen(ctx.session.sync_session, "after_commit", lambda _s: self._wake.set(), once=True)

    def _worth_translating(self, text: str) -> bool:
        stripped = text.strip()
        return len(stripped) >= self.config.min_chars and len(stripped.split()) >= self.config.min_words

    # ---- handlers -------------------------------------------------------------------

    @on(Message)
    async def on_message(self, ctx: Context, msg: Message) -> None:
        if msg.msgtype not in ("m.text", "m.emote") or self.translator is None:
            return
        if msg.is_edit:
            original = msg.relates_to.get("event_id")
            has_links = await ctx.session.scalar(
                select(TranslationLink.id).where(TranslationLink.source_event_id == original).limit(1)
            )
            if has_links:
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
        if not self._worth_translating(msg.body) or await self.room_mode(ctx) != "auto":
            return
        if self.services.rooms.member_count(msg.room_id) <= 2:
            return  # a direct chat with the bot: nobody to translate for
        user = await ctx.session.get(TranslateUser, msg.sender)
        if user is not None and not user.translate_mine:
            return
        limits = self.services.limits
        if limits is not None and not limits.allows("translations", msg.sender):
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
        if await self._existing(ctx.session, reaction.target, target) is not None:
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
        links = (
            await ctx.session.scalars(
                select(TranslationLink).where(TranslationLink.source_event_id == redaction.redacts)
            )
        ).all()
        ctx.queued.extend(await self._redact(ctx.session, links))
        await ctx.session.execute(delete(TranslationJob).where(TranslationJob.source_event_id == redaction.redacts))
        # One of our translations redacted (by a moderator): forget it, so a
        # new request makes a new one instead of pointing at the redacted one.
        ours = select(OutboxMessage.id).where(OutboxMessage.sent_event_id == redaction.redacts)
        await ctx.session.execute(
            delete(TranslationLink).where(TranslationLink.room_id == ctx.room_id, TranslationLink.outbox_id.in_(ours))
        )

    async def _redact(self, session, links: list[TranslationLink]) -> list:
        """Redact the bot events of these links (an unsent one is dropped
        from the outbox instead) and delete the links."""
        queued = []
        for link in links:
            if (redaction := await self.services.outbox.retract(session, link.outbox_id)) is not None:
                queued.append(redaction)
            await session.delete(link)
        return queued

    async def _existing(self, session, source_event_id: str, target: str) -> TranslationLink | None:
        """The first part of an earlier translation of that message into `target`."""
        return await session.scalar(
            select(TranslationLink)
            .where(TranslationLink.source_event_id == source_event_id, TranslationLink.target_lang == target)
            .order_by(TranslationLink.id)
            .limit(1)
        )

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
        if not self._require_models(ctx):
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
        args=(Arg("mode", choices=("auto", "reactions", "off")),),
    )
    async def set_mode(self, ctx: Context, mode: str) -> None:
        row = await ctx.session.get(TranslateRoom, ctx.room_id)
        if row is None:
            ctx.session.add(TranslateRoom(room_id=ctx.room_id, mode=mode))
        else:
            row.mode = mode
        ctx.reply(f"translate.mode.{mode}")

    @command(
        "translate status",
        nl=("vertaal status",),
        de=("übersetze status", "uebersetze status"),
        help="translate.status.help",
        perm=Perm.ANYONE,
    )
    async def status(self, ctx: Context) -> None:
        lines = [ctx.t("translate.status.mode", mode=ctx.t(f"translate.mode_name.{await self.room_mode(ctx)}"))]
        if self.translator is None or not self.translator.has_models():
            lines.append(ctx.t("translate.no_model"))
        else:
            for src, tgt in (("nl", "de"), ("de", "nl"), ("en", "nl"), ("en", "de")):
                route = self.translator.engine.route(src, tgt)
                how = (
                    ctx.t("translate.status.missing")
                    if route is None
                    else (ctx.t("translate.status.direct") if len(route) == 1 else ctx.t("translate.status.pivot"))
                )
                lines.append(f"- {src.upper()}→{tgt.upper()}: {how}")
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
        user.translate_mine = setting in ("on", "aan", "an")
        ctx.reply("translate.me.on" if user.translate_mine else "translate.me.off")

    @command(
        "translate both",
        nl=("vertaal beide",),
        de=("übersetze beide", "uebersetze beide"),
        help="translate.both.help",
        perm=Perm.ANYONE,
        args=(Arg("setting", choices=("on", "off", "aan", "uit", "an", "aus")),),
    )
    async def both(self, ctx: Context, setting: str) -> None:
        user = await self._user(ctx)
        user.reads_both = setting in ("on", "aan", "an")
        ctx.reply("translate.both.on" if user.reads_both else "translate.both.off")

    def _require_models(self, ctx: Context) -> bool:
        if self.translator is None or not self.translator.has_models():
            ctx.reply("translate.no_model")
            return False
        return True

    # ---- the worker ---------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            async with self.services.db.sessions() as session:
                jobs = (
                    await session.scalars(select(TranslationJob).order_by(TranslationJob.id).limit(self.config.batch))
                ).all()
            if not jobs:
                await self._wake.wait()
                continue
            # All at once: the translator batches what runs concurrently.
            await asyncio.gather(*(self._do(job) for job in jobs))

    async def _do(self, job: TranslationJob) -> None:
        try:
            await self._translate_job(job)
        except Exception:
            log.exception("translation job failed", extra={"job": job.id, "room_id": job.room_id})
            async with self.services.db.transaction() as session:
                row = await session.get(TranslationJob, job.id)
                if row is not None:
                    row.attempts += 1
                    if row.attempts >= 3:
                        await session.delete(row)
            await asyncio.sleep(1)

    async def _translate_job(self, job: TranslationJob) -> None:
        i18n, outbox, rooms = self.services.i18n, self.services.outbox, self.services.rooms
        text, author, written = job.text, job.sender, job.created_at
        if job.kind in ("reaction", "command") and await self._reuse(job):
            return
        if text is None:  # reactions and commands point at an earlier message
            original = await rooms.fetch_message(job.room_id, job.source_event_id)
            if original is None or original.sender == self.services.bot_user_id or original.msgtype == "m.notice":
                return await self._finish(job, notes=[("translate.not_found", {})] if job.kind == "command" else [])
            text, author = original.body, original.sender
            written = datetime.fromtimestamp(original.ts / 1000, UTC)
            job.thread_root = job.thread_root or original.thread_root
            async with self.services.db.sessions() as session:
                if await self._erased_since(session, author, written):  # see below
                    return await self._finish(job, notes=[("translate.not_found", {})] if job.kind == "command" else [])
        # Only the first translator.max_chars characters are looked at (and
        # translated): one huge message must not hold up everything else.
        head, rest = self.translator.cut(text)
        src = await self.translator.detect(head)
        if src is None:
            return await self._finish(job, notes=[("translate.unknown_language", {})] if job.kind == "command" else [])
        if job.kind == "edit":
            return await self._edit(job, head, rest, src)
        targets = job.targets or (OTHER.get(src) if src != "en" else list(self.config.english_targets)) or []
        targets = [t for t in targets if t != src]
        if not targets:
            note = [("translate.already", {"language": i18n.t(job.lang, f"core.language.{src}")})]
            return await self._finish(job, notes=note if job.kind == "command" else [])
        outputs: list[tuple[str, str]] = []
        for target in targets:
            try:
                outputs.append((target, await self.translator.translate(head, src, target)))
            except NoModel:
                if job.kind in ("command", "reaction"):
                    return await self._finish(job, notes=[("translate.no_model", {})])
                log.info("no model for a direction", extra={"src": src, "tgt": target})
        name = rooms.display_name(job.room_id, author)
        relation = self._relation(job)
        notices = []
        for target, translated in outputs:
            note = self._rest_note(rest, target)
            body = f"**{_md_escape(name)}** ({src.upper()}→{target.upper()}): {translated}{note}"
            # Markdown rendering is CPU work too: not on the event loop. A
            # translation too long for the message parts ends with the note too.
            notices.append(
                (
                    target,
                    await asyncio.to_thread(notice_contents, body, relates_to=relation, cut_note=note.strip() or "…"),
                )
            )
        async with self.services.db.transaction() as session:
            if await session.get(TranslationJob, job.id) is None:
                return  # redacted or erased meanwhile
            if await self._erased_since(session, author, written):
                # The author used !forget after writing it (meanwhile, or before
                # a reaction to an old message): never echo those words again.
                await session.execute(delete(TranslationJob).where(TranslationJob.id == job.id))
                return
            queued = []
            for target, contents in notices:
                if job.kind in ("reaction", "command") and await self._existing(session, job.source_event_id, target):
                    continue  # made meanwhile by another request
                for content in contents:
                    row = outbox.queue(session, job.room_id, content)
                    queued.append(row)
                    await session.flush()
                    session.add(
                        TranslationLink(
                            room_id=job.room_id,
                            source_event_id=job.source_event_id,
                            target_lang=target,
                            outbox_id=row.id,
                            author=author,
                        )
                    )
            await session.execute(delete(TranslationJob).where(TranslationJob.id == job.id))
        outbox.notify(queued)

    def _rest_note(self, rest: str, lang: str) -> str:
        """Says, in the reader's language, that the end of the message was left out."""
        if not rest.strip():
            return ""
        return "\n\n" + self.services.i18n.t(lang, "translate.rest_not_translated", count=len(rest.strip()))

    async def _reuse(self, job: TranslationJob) -> bool:
        """A request for a translation that exists already: no new one. A
        reaction needs no answer (the translation is on the message); a
        command gets a pointer to it."""
        async with self.services.db.sessions() as session:
            links = [await self._existing(session, job.source_event_id, t) for t in job.targets]
            if not job.targets or None in links:
                return False
            sent = [await session.get(OutboxMessage, link.outbox_id) for link in links]
        notes = []
        if job.kind == "command":
            for link, row in zip(links, sent, strict=False):
                if row is not None and row.sent_event_id:
                    url = f"https://matrix.to/#/{quote(job.room_id, safe='')}/{quote(row.sent_event_id, safe='')}"
                    language = self.services.i18n.t(job.lang, f"core.language.{link.target_lang}")
                    notes.append(("translate.exists", {"language": language, "link": Markdown(f"<{url}>")}))
        await self._finish(job, notes=notes)
        return True

    async def _erased_since(self, session, user_id: str, since: datetime | None) -> bool:
        """Whether `user_id` was forgotten (!forget, or as an inactive member)
        after `since`. The erasure log has only a salted hash of who."""
        privacy = self.services.privacy
        if privacy is None or not user_id:
            return False
        query = select(ErasureLog.id).where(ErasureLog.subject_hash == privacy.subject_hash(user_id))
        if since is not None:
            if since.tzinfo is None:  # SQLite gives naive UTC back
                since = since.replace(tzinfo=UTC)
            query = query.where(ErasureLog.erased_at >= since - timedelta(seconds=10))  # clock skew
        return await session.scalar(query.limit(1)) is not None

    async def _edit(self, job: TranslationJob, text: str, rest: str, src: str) -> None:
        outbox, rooms = self.services.outbox, self.services.rooms
        async with self.services.db.sessions() as session:
            links = (
                await session.scalars(
                    select(TranslationLink)
                    .where(TranslationLink.source_event_id == job.source_event_id)
                    .order_by(TranslationLink.id)
                )
            ).all()
            sent = {link.id: await session.get(OutboxMessage, link.outbox_id) for link in links}
        edits, seen = [], set()
        for link in links:
            row = sent[link.id]
            # The first part of each translation (edit links are "edit:<lang>").
            if (
                row is None
                or not row.sent_event_id
                or link.target_lang not in LANG_CHOICES
                or link.target_lang == src
                or link.target_lang in seen
            ):
                continue
            seen.add(link.target_lang)
            try:
                translated = await self.translator.translate(text, src, link.target_lang)
            except NoModel:
                continue
            name = rooms.display_name(job.room_id, link.author)
            note = self._rest_note(rest, link.target_lang)
            body = f"**{_md_escape(name)}** ({src.upper()}→{link.target_lang.upper()}): {translated}{note}"
            new = (await asyncio.to_thread(notice_contents, body, max_parts=1, cut_note=note.strip() or "…"))[0]
            edits.append(
                (
                    link,
                    {
                        **new,
                        "body": f"* {new['body']}",
                        "m.new_content": dict(new),
                        "m.relates_to": {"rel_type": "m.replace", "event_id": row.sent_event_id},
                    },
                )
            )
        async with self.services.db.transaction() as session:
            if await session.get(TranslationJob, job.id) is None:
                return  # redacted or erased meanwhile
            queued = []
            for link, content in edits:
                row = outbox.queue(session, job.room_id, content)
                queued.append(row)
                await session.flush()
                # An edit carries the words too: redacted with the translation.
                session.add(
                    TranslationLink(
                        room_id=job.room_id,
                        source_event_id=job.source_event_id,
                        target_lang=f"edit:{link.target_lang}",
                        outbox_id=row.id,
                        author=link.author,
                    )
                )
            await session.execute(delete(TranslationJob).where(TranslationJob.id == job.id))
        outbox.notify(queued)

    def _relation(self, job: TranslationJob) -> dict:
        root = job.thread_root or (job.source_event_id if self.config.threads else None)
        if root:
            return {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": job.source_event_id},
            }
        return {"m.in_reply_to": {"event_id": job.source_event_id}}

    async def _finish(self, job: TranslationJob, notes: list[tuple[str, dict]]) -> None:
        """Drop the job; for commands, answer why nothing was translated."""
        async with self.services.db.transaction() as session:
            queued = []
            for key, params in notes:
                text = self.services.i18n.t(job.lang, key, **params)
                relation = reply_relation(job.reply_event_id or job.source_event_id, job.thread_root)
                for content in notice_contents(text, relates_to=relation):
                    queued.append(self.services.outbox.queue(session, job.room_id, content))
            await session.execute(delete(TranslationJob).where(TranslationJob.id == job.id))
        self.services.outbox.notify(queued)


def _md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>#" else c for c in text)
