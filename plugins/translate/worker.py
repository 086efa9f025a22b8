"""The translation worker: turns TranslationJobs into notices, many at a time
so the translator can batch them.

What it sends is recorded in the core ledger: a translation under
TRANSLATION (subject: the translated message, user: its author, detail: the
target language), an edit of one under EDIT. The source's edit edits the
translations, its redaction retracts them, and the author's erasure
(`ledger.forget_user` in the core) takes both back, with their words.

A message in an auto room that cannot be translated for want of a model is
not passed over in silence: the room's moderators get one short note saying
what to install, at most once per room and day (NO_MODEL_NOTE in the ledger,
detail: the day; and in memory, for the jobs of a burst that run together).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from diabot.formatting import Markdown, escape_md, notice_contents
from diabot.ledger import Ledger, LedgerEntry
from diabot.sending import Sender, UnitOfWork, edit_content
from diabot.storage.models import ErasureLog
from diabot.tasks import cancel_and_wait
from diabot.translation import NoModel, Translator

from .models import TranslationJob
from .needs import OTHER, Missing, auto_directions, missing

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .config import TranslateConfig

log = logging.getLogger(__name__)
TRANSLATION = "translate.translation"
EDIT = "translate.edit"
NO_MODEL_NOTE = "translate.no_model_note"
LANG_CHOICES = ("nl", "de", "en")
Note = tuple[str, dict[str, Any]]  # a catalog key and its parameters


async def existing_translation(ledger: Ledger, source_event_id: str, target: str) -> LedgerEntry | None:
    """The first part of an earlier translation of that message into `target`."""
    entries = await ledger.find(TRANSLATION, subject=source_event_id, detail=target)
    return entries[0] if entries else None


class TranslationWorker:
    def __init__(self, services: Services, config: TranslateConfig, translator: Translator):
        self.services = services
        self.config = config
        self.translator = translator
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._noted: dict[str, str] = {}  # room -> the day its moderators were told that models are missing

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="translate-worker")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            async with self.services.db.sessions() as session:
                query = select(TranslationJob).order_by(TranslationJob.id).limit(self.config.batch)
                jobs = (await session.scalars(query)).all()
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

    # ---- one job ----------------------------------------------------------------------

    async def _translate_job(self, job: TranslationJob) -> None:
        rooms = self.services.rooms
        text, author, written = job.text, job.sender, job.created_at
        if job.kind in ("reaction", "command") and await self._reuse(job):
            return
        if text is None:  # reactions and commands point at an earlier message
            original = await rooms.fetch_message(job.room_id, job.source_event_id)
            if original is None or original.sender == self.services.bot_user_id or original.msgtype == "m.notice":
                return await self._finish(job, self._for_command(job, "translate.not_found"))
            # Asked by a reaction or a command, a command ("!help") is still
            # no text to translate, nor is "ok" (as in auto rooms).
            if self.services.router.is_command(original.body) or not self.config.worth_translating(original.body):
                return await self._finish(job, self._for_command(job, "translate.nothing_to_translate"))
            text, author = original.body, original.sender
            written = datetime.fromtimestamp(original.ts / 1000, UTC)
            job.thread_root = job.thread_root or original.thread_root
            async with self.services.db.sessions() as session:
                if await self._erased_since(session, author, written):  # see below
                    return await self._finish(job, self._for_command(job, "translate.not_found"))
        # Only the first translator.max_chars characters are looked at (and
        # translated): one huge message must not hold up everything else.
        head, rest = self.translator.cut(text)
        src = await self.translator.detect(head)
        if src is None:
            return await self._finish(job, self._for_command(job, "translate.unknown_language"))
        if job.kind == "edit":
            return await self._edit(job, head, rest, src)
        targets = [t for t in self._targets(job, src) if t != src]
        if not targets:
            language = self.services.i18n.t(job.lang, f"core.language.{src}")
            return await self._finish(job, self._for_command(job, "translate.already", language=language))
        outputs: list[tuple[str, str]] = []
        untranslatable = False
        for target in targets:
            try:
                outputs.append((target, await self.translator.translate(head, src, target)))
            except NoModel:
                if job.kind in ("command", "reaction"):
                    return await self._finish(job, [self._no_model_note((src, target))])
                log.info("no model for a direction", extra={"src": src, "tgt": target})
                untranslatable = True
        notices = [
            (target, await self._contents(job, author, src, target, translated, rest)) for target, translated in outputs
        ]
        async with self.services.work() as uow:
            if await uow.session.get(TranslationJob, job.id) is None:
                return  # redacted or erased meanwhile
            if untranslatable and job.kind == "auto":
                await self._tell_moderators(uow, job.room_id)
            if not await self._erased_since(uow.session, author, written):
                # (Else the author used !forget after writing it, meanwhile or
                # before a reaction to an old message: never echo those words.)
                for target, contents in notices:
                    if job.kind in ("reaction", "command") and await existing_translation(
                        uow.ledger, job.source_event_id, target
                    ):
                        continue  # made meanwhile by another request
                    handle = uow.send_contents(job.room_id, contents)
                    uow.ledger.record(handle, TRANSLATION, subject=job.source_event_id, user_id=author, detail=target)
            await self._drop(uow.session, job)

    def _missing(self) -> Missing:
        return missing(self.translator, auto_directions(self.config.english_targets))

    def _no_model_note(self, direction: tuple[str, str]) -> Note:
        """Why a request was not translated, and what to install."""
        config_file = self.services.settings.config_file
        lacking = missing(self.translator, [direction])
        if not lacking.any_installed:
            return ("translate.no_model", {"command": self._missing().command(config_file)})
        return (
            "translate.missing_direction",
            {"direction": lacking.directions_text(), "command": lacking.command(config_file)},
        )

    async def _tell_moderators(self, uow: UnitOfWork, room_id: str) -> None:
        """A short note in the room (a notice: it pings nobody) that its
        messages are not translated and what to install; once a day."""
        day = self.services.scheduler.now().date().isoformat()
        if self._noted.get(room_id) == day:
            return
        self._noted[room_id] = day  # before any await: the other jobs of this burst see it
        if await uow.ledger.find(NO_MODEL_NOTE, subject=room_id, detail=day):
            return  # told before a restart
        lacking = self._missing()
        # The bot has no language of its own: the room's (else the community's default).
        room = await uow.for_user(self.services.bot_user_id, room_id)
        text = room.t(
            "translate.moderators.no_model",
            directions=lacking.directions_text(),
            command=lacking.command(self.services.settings.config_file),
        )
        uow.ledger.record(room.notice(room_id, text), NO_MODEL_NOTE, subject=room_id, detail=day)

    def _targets(self, job: TranslationJob, src: str) -> list[str]:
        if job.targets:
            return list(job.targets)
        if src == "en":
            return list(self.config.english_targets)
        return OTHER.get(src, [])

    async def _contents(
        self, job: TranslationJob, author: str, src: str, target: str, translated: str, rest: str
    ) -> list[dict]:
        name = self.services.rooms.display_name(job.room_id, author)
        note = self._rest_note(rest, target)
        body = f"**{escape_md(name)}** ({src.upper()}→{target.upper()}): {translated}{note}"
        # Markdown rendering is CPU work too: not on the event loop. A
        # translation too long for the message parts ends with the note too.
        return await asyncio.to_thread(
            notice_contents, body, relates_to=self._relation(job), cut_note=note.strip() or "…"
        )

    def _rest_note(self, rest: str, lang: str) -> str:
        """Says, in the reader's language, that the end of the message was left out."""
        if not rest.strip():
            return ""
        return "\n\n" + self.services.i18n.t(lang, "translate.rest_not_translated", count=len(rest.strip()))

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

    async def _reuse(self, job: TranslationJob) -> bool:
        """A request for a translation that exists already: no new one. A
        reaction needs no answer (the translation is on the message); a
        command gets a pointer to it."""
        async with self.services.work() as uow:
            found = [await existing_translation(uow.ledger, job.source_event_id, t) for t in job.targets]
            entries = [entry for entry in found if entry is not None]
            if not job.targets or len(entries) < len(found):
                return False
            notes: list[Note] = []
            for entry in entries:
                if job.kind == "command" and entry.event_id and entry.detail:
                    url = f"https://matrix.to/#/{quote(job.room_id, safe='')}/{quote(entry.event_id, safe='')}"
                    language = self.services.i18n.t(job.lang, f"core.language.{entry.detail}")
                    notes.append(("translate.exists", {"language": language, "link": Markdown(f"<{url}>")}))
            self._answer(uow, job, notes)
            await self._drop(uow.session, job)
        return True

    async def _erased_since(self, session: AsyncSession, user_id: str, since: datetime | None) -> bool:
        """Whether `user_id` was forgotten (!forget, or as an inactive member)
        after `since`. The erasure log has only a salted hash of who."""
        privacy = self.services.privacy
        if not user_id:
            return False
        query = select(ErasureLog.id).where(ErasureLog.subject_hash == privacy.subject_hash(user_id))
        if since is not None:
            if since.tzinfo is None:  # SQLite gives naive UTC back
                since = since.replace(tzinfo=UTC)
            query = query.where(ErasureLog.erased_at >= since - timedelta(seconds=10))  # clock skew
        return await session.scalar(query.limit(1)) is not None

    # ---- an edited source: edit its translations -------------------------------------------

    async def _edit(self, job: TranslationJob, text: str, rest: str, src: str) -> None:
        async with self.services.work() as uow:
            entries = await uow.ledger.find(TRANSLATION, subject=job.source_event_id)
        firsts: dict[str, LedgerEntry] = {}
        for entry in entries:  # in the order sent: the first part of each translation
            if entry.detail is not None:
                firsts.setdefault(entry.detail, entry)
        edits: list[tuple[LedgerEntry, dict]] = []
        for target, entry in firsts.items():
            if not entry.event_id or not entry.user_id or target == src:
                continue
            try:
                translated = await self.translator.translate(text, src, target)
            except NoModel:
                continue
            name = self.services.rooms.display_name(job.room_id, entry.user_id)
            note = self._rest_note(rest, target)
            body = f"**{escape_md(name)}** ({src.upper()}→{target.upper()}): {translated}{note}"
            (new,) = await asyncio.to_thread(notice_contents, body, max_parts=1, cut_note=note.strip() or "…")
            edits.append((entry, new))
        async with self.services.work() as uow:
            if await uow.session.get(TranslationJob, job.id) is None:
                return  # redacted or erased meanwhile
            for entry, new in edits:
                assert entry.event_id is not None
                handle = uow.send_contents(job.room_id, [edit_content(entry.event_id, new)])
                # An edit carries the words too: retracted with the translation.
                uow.ledger.record(handle, EDIT, subject=job.source_event_id, user_id=entry.user_id, detail=entry.detail)
            await self._drop(uow.session, job)

    # ---- done -------------------------------------------------------------------------------

    @staticmethod
    def _for_command(job: TranslationJob, key: str, **params: Any) -> list[Note]:
        """Why nothing was translated: said only to whoever asked with a command."""
        return [(key, params)] if job.kind == "command" else []

    def _answer(self, uow: UnitOfWork, job: TranslationJob, notes: Sequence[Note]) -> None:
        """Notes to whoever asked, in the language they asked in."""
        if not notes:
            return
        answer = Sender(self.services, uow.session, job.lang, uow.queued)
        for key, params in notes:
            answer.notice(
                job.room_id,
                answer.t(key, **params),
                reply_to=job.reply_event_id or job.source_event_id,
                thread=job.thread_root,
            )

    async def _finish(self, job: TranslationJob, notes: Sequence[Note] = ()) -> None:
        """Drop the job, with the notes for a command."""
        async with self.services.work() as uow:
            self._answer(uow, job, notes)
            await self._drop(uow.session, job)

    @staticmethod
    async def _drop(session: AsyncSession, job: TranslationJob) -> None:
        await session.execute(delete(TranslationJob).where(TranslationJob.id == job.id))
