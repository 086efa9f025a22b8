"""`!event` without arguments: a few short questions in the member's DM
(title, when, where, theme, places), then the event as from one line.

The state is a row (EventDraft), so a restart continues where it was.
*stop* (or *annuleren*, *abbrechen*, *cancel*) ends it; a dialogue nobody
answered for `dialogue_timeout_min` is dropped with a short note. A wrong
answer is answered with what was understood, and the question stays.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from diabot.context import Context
from diabot.dates import When
from diabot.directory import ThemeInfo
from diabot.errors import UsageError
from diabot.formatting import Markdown
from diabot.storage.models import aware

from .models import EventDraft
from .parsing import EventLine, check_lengths, read_when, take_extras

if TYPE_CHECKING:
    from diabot.plugin import Services

    from .config import EventsConfig
    from .lifecycle import EventDesk

STEPS = ("title", "when", "where", "theme", "max")
STOP_WORDS = {"stop", "stoppen", "annuleer", "annuleren", "abbrechen", "abbruch", "cancel", "halt"}
SKIP_WORDS = {"-", "nee", "geen", "niets", "overslaan", "skip", "no", "none", "nein", "keine", "kein", "überspringen"}


class CreationDialogue:
    def __init__(self, services: Services, config: EventsConfig, desk: EventDesk):
        self.services = services
        self.desk = desk
        self.timeout = timedelta(minutes=config.dialogue_timeout_min)

    def now(self) -> datetime:
        return self.services.scheduler.now()

    async def start(self, ctx: Context) -> None:
        dm = await self.services.direct.open(ctx.sender)  # before writing (it may write itself)
        theme = self.services.directory.theme_of(ctx.room_id)
        # The language of the command that started it (a member who chose none typed !termin: German).
        answers: dict = {"lang": ctx.lang}
        if theme is not None and not theme.archived:
            answers["theme"] = theme.slug
        draft = await ctx.session.get(EventDraft, ctx.sender)
        if draft is None:
            draft = EventDraft(user_id=ctx.sender, room_id=dm, step="title", answers=answers)
            ctx.session.add(draft)
        draft.room_id, draft.step, draft.answers, draft.updated_at = dm, "title", answers, self.now()
        ctx.notice(dm, ctx.t("events.dialogue.start"))
        if ctx.room_id != dm:
            ctx.reply("events.dialogue.in_dm")

    async def answered(self, ctx: Context, text: str) -> None:
        """A message that may answer the open question (nothing happens if there is none here)."""
        draft = await ctx.session.get(EventDraft, ctx.sender)
        if draft is None or draft.room_id != ctx.room_id:
            return
        text = text.strip()
        ctx.lang = draft.answers.get("lang") or ctx.lang
        if self._expired(draft):
            await ctx.session.delete(draft)
            ctx.reply("events.dialogue.timed_out", minutes=int(self.timeout.total_seconds() // 60))
            return
        if text.lower() in STOP_WORDS:
            await ctx.session.delete(draft)
            ctx.reply("events.dialogue.stopped")
            return
        answers = dict(draft.answers)
        skipped = text.lower() in SKIP_WORDS
        if draft.step == "title":
            if skipped or not text:
                raise UsageError("events.error.no_title")
            check_lengths(text, None, None)
            answers["title"] = " ".join(text.split())
        elif draft.step == "when":
            extras = await asyncio.to_thread(take_extras, text)
            when = await asyncio.to_thread(read_when, extras.rest, self.desk.zone, self.now())
            line = EventLine("", when, extras.rest, duration=extras.duration, end_time=extras.end_time)
            answers["start"] = when.at.astimezone(UTC).isoformat()
            answers["end"] = line.ends(self.desk.default_duration).astimezone(UTC).isoformat()
        elif draft.step == "where":
            extras = await asyncio.to_thread(take_extras, text)
            place = None if skipped else " ".join(((extras.place or "") + " " + extras.rest).split()) or None
            check_lengths(None, place, extras.link)
            answers["place"], answers["link"] = place, extras.link
        elif draft.step == "theme":
            answers["theme"] = self._theme(text).slug
        elif draft.step == "max":
            answers["max"] = None if skipped else _places(text)
        step = self._next(draft.step, answers)
        passed = step is None and datetime.fromisoformat(answers["start"]) <= self.now()
        if passed:  # the moment went by while they answered: ask again
            del answers["start"], answers["end"]
            step = "when"
        draft.answers, draft.updated_at = answers, self.now()
        if step is not None:
            draft.step = step
            question = self.question(ctx, step)
            ctx.reply_markdown(f"{ctx.t('events.dialogue.passed')}\n\n{question}" if passed else question)
            return
        await ctx.session.delete(draft)
        await self._create(ctx, answers)

    def question(self, ctx: Context, step: str) -> str:
        if step == "theme":
            themes = "\n".join(f"{i}. {t.name(ctx.lang)}" for i, t in enumerate(self._themes(), 1))
            return ctx.t("events.dialogue.q.theme", themes=Markdown(themes))
        return ctx.t(f"events.dialogue.q.{step}")

    @staticmethod
    def _next(step: str, answers: dict) -> str | None:
        for later in STEPS[STEPS.index(step) + 1 :]:
            if later not in answers:
                return later
        return None

    def _themes(self) -> list[ThemeInfo]:
        return [t for t in self.services.directory.themes() if not t.invite_only]

    def _theme(self, text: str) -> ThemeInfo:
        themes = self._themes()
        if text.isdigit() and 1 <= int(text) <= len(themes):
            return themes[int(text) - 1]
        found = self.services.directory.find(text)
        if found is None:
            raise UsageError(
                "events.error.no_theme", theme=text, themes=", ".join(str(i) for i in range(1, len(themes) + 1))
            )
        return found

    async def _create(self, ctx: Context, answers: dict) -> None:
        start = datetime.fromisoformat(answers["start"])
        end = datetime.fromisoformat(answers["end"])
        line = EventLine(
            title=answers["title"],
            when=When(start.astimezone(self.desk.zone), True),
            date_text="",
            duration=end - start,
            place=answers.get("place"),
            link=answers.get("link"),
            theme=answers.get("theme"),
            capacity=answers.get("max"),
        )
        await self.desk.create(ctx, line, origin_room=None)

    def _expired(self, draft: EventDraft) -> bool:
        updated = aware(draft.updated_at)
        return updated is not None and self.now() - updated > self.timeout

    async def sweep(self) -> int:
        """Job: drop dialogues nobody answered in time, with a note in the DM."""
        async with self.services.work() as uow:
            drafts = (await uow.session.scalars(select(EventDraft))).all()
            expired = [d for d in drafts if self._expired(d)]
            for draft in expired:
                them = await uow.for_user(draft.user_id)
                them.lang = draft.answers.get("lang") or them.lang
                them.notice(
                    draft.room_id, them.t("events.dialogue.timed_out", minutes=int(self.timeout.total_seconds() // 60))
                )
                await uow.session.delete(draft)
        return len(expired)


def _places(text: str) -> int:
    try:
        number = int(text.strip().lstrip("max").strip(" .:"))
    except ValueError:
        raise UsageError("events.error.capacity") from None
    if number < 1:
        raise UsageError("events.error.capacity")
    return number
