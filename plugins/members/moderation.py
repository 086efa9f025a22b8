"""Moderator tools: an announcement in every (or some) themed room, in both
languages, and the community's numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from diabot.context import Context
from diabot.errors import UsageError
from diabot.formatting import escape_md
from diabot.translation import NoModel

from .models import Onboarding, Profile

if TYPE_CHECKING:
    from diabot.plugin import Services

FLAGS = {"nl": "🇳🇱", "de": "🇩🇪"}
# Into which languages a text in one language is translated.
OTHER_LANGUAGES = {"nl": ["de"], "de": ["nl"], "en": ["nl", "de"]}


class ModeratorTools:
    def __init__(self, services: Services):
        self.services = services

    async def announce(self, ctx: Context, text: str) -> None:
        """`text` may start with theme slugs: only those rooms; else all of them."""
        themes = self.services.directory.themes()
        by_slug = {theme.slug: theme for theme in themes}
        words = text.split()
        targets = []
        while words and words[0].lower() in by_slug:
            targets.append(by_slug[words.pop(0).lower()])
        body = text if not targets else text.split(None, len(targets))[-1]
        if not words or not body.strip():
            raise UsageError("core.error.missing_arg", arg="text")
        targets = targets or themes
        message = await self._bilingual(body)
        for theme in targets:
            ctx.notice(theme.room_id, f"📣 {message}")
        ctx.reply("members.announce.done", count=len(targets))

    async def _bilingual(self, text: str) -> str:
        """The text as written plus its translation into the other language(s)."""
        translator = self.services.translator
        if translator is None or not translator.has_models():
            return text
        src = await translator.detect(text)
        if src is None:
            return text
        parts = [text]
        for target in OTHER_LANGUAGES.get(src, []):
            try:
                parts.append(f"{FLAGS[target]} {await translator.translate(text, src, target)}")
            except NoModel:
                continue
        return "\n\n".join(parts)

    async def stats(self, ctx: Context) -> None:
        rooms = self.services.rooms
        lines = [f"**{ctx.t('members.stats.title')}**", "", f"**{ctx.t('members.stats.rooms')}**"]
        for theme in self.services.directory.themes():
            lines.append(f"- {escape_md(theme.name(ctx.lang))}: {rooms.member_count(theme.room_id)}")
        statuses = select(Onboarding.status, func.count()).group_by(Onboarding.status)
        counts: dict[str, int] = {status: n for status, n in (await ctx.session.execute(statuses)).all()}
        profiles = await ctx.session.scalar(select(func.count()).select_from(Profile)) or 0
        lines += [
            "",
            f"**{ctx.t('members.stats.onboarding')}**",
            ctx.t(
                "members.stats.onboarding_line",
                started=sum(counts.values()),
                done=counts.get("done", 0),
                declined=counts.get("declined", 0),
                stopped=counts.get("stopped", 0),
                profiles=profiles,
            ),
        ]
        ctx.reply_markdown("\n".join(lines))
