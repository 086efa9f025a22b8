"""The exchange: seeks, offers and knowledge, found in all three languages and matched across
the border, with introductions only after both sides agreed.

This class declares the commands, handlers and the job; the rules live in recording.py (what a
request is about), introductions.py (suggestions and consent), matching.py (the score),
store.py (queries and full-text search), expiry.py, render.py, gdpr.py and insights.py.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from pydantic import Field

from diabot.commands import Arg, Perm, command, on
from diabot.context import Context
from diabot.errors import Forbidden, UsageError
from diabot.events import Message, Reaction
from diabot.plugin import Plugin, PluginConfig, Services
from diabot.resource_types import RESOURCES
from diabot.sending import Sender

from . import gdpr, render, search, store
from .expiry import REMINDER, RENEW_KEY, Expiry
from .insights import ExchangeInsights
from .introductions import Introductions
from .models import CLOSED, OFFER, OPEN, PENDING, SEEK, ExchangeItem
from .recording import Recorder
from .taxonomy import LANGS, taxonomy

PIN_KEY = "📌"
_NUMBER = re.compile(r"^\s*#?(\d{1,4})\s*[.)]?\s*$")
# Yes and no as members type them (a copy of the few words needed: no import of another plugin).
YES = frozenset(("ja", "j", "yes", "y", "jawel", "graag", "gerne", "ok", "oké", "okay", "prima", "👍", "✅"))
NO = frozenset(("nee", "nein", "no", "n", "neen", "liever niet", "lieber nicht", "👎", "❌"))


def number(text: str) -> int:
    """A request's or match's number as typed: "7" or "#7"."""
    return int(text.removeprefix("#"))


ID_ARG = Arg("nr", type=number)


class ExchangeConfig(PluginConfig):
    expiry_days: int = Field(default=90, ge=1, le=3650)
    remind_days: int = Field(default=7, ge=1, le=60)  # the reminder this long before a request lapses
    sweep_s: int = Field(default=3600, ge=60)  # how often expiry and reminders are checked
    find_limit: int = Field(default=8, ge=1, le=30)


class ExchangePlugin(Plugin[ExchangeConfig]):
    name = "exchange"

    def __init__(self, services: Services, config: ExchangeConfig):
        super().__init__(services, config)
        self.recorder = Recorder(services, config.expiry_days)
        self.introductions = Introductions(services)
        self.expiry = Expiry(services, self.introductions, config.remind_days)
        services.privacy.register("exchange", gdpr.export, gdpr.erase)
        insights = ExchangeInsights(services)
        services.insights.register_digest("exchange", insights.digest_lines)
        services.insights.register_report("exchange", insights.report_rows)

    async def start(self) -> None:
        await asyncio.to_thread(taxonomy)  # compile the taxonomy once, off the loop
        async with self.services.work() as uow:
            await self.recorder.index_profiles(uow.session)
        self.services.scheduler.every("exchange.expiry", self.config.sweep_s, self.expiry.sweep)
        await self.expiry.sweep()  # what fell due during downtime

    # ---- recording ---------------------------------------------------------------------------

    async def _record(self, ctx: Context, kind: str, text: str) -> None:
        # The direct chat first: opening it may write (in its own transaction), before this one does.
        dm = await self.services.direct.open(ctx.sender)
        item = await self.recorder.request(ctx, kind, text)
        if item.status == OPEN:
            await self._opened(ctx, item, dm)

    async def _opened(self, ctx: Context, item: ExchangeItem, dm: str) -> None:
        # In the language of the request (a bare number has none) unless the member chose one.
        lang = await self.services.languages.for_user(ctx.session, ctx.sender, hint=item.lang)
        them = Sender(self.services, ctx.session, lang, ctx.queued)
        text = them.t(f"exchange.recorded.{item.kind}", id=item.id, resource=render.resource(them, item.resource))
        them.notice(ctx.room_id, text, reply_to=ctx.event.event_id, thread=ctx.event.thread_root)
        await self.introductions.suggest(ctx, item, dm)

    @command("seek", nl=("zoek",), de=("suche",), help="exchange.seek.help", args=(Arg("what", rest=True),))
    async def seek(self, ctx: Context, what: str) -> None:
        await self._record(ctx, SEEK, what)

    @command("offer", nl=("bied",), de=("biete",), help="exchange.offer.help", args=(Arg("what", rest=True),))
    async def offer(self, ctx: Context, what: str) -> None:
        await self._record(ctx, OFFER, what)

    @command("share", nl=("deel",), de=("teile",), help="exchange.share.help", args=(Arg("what", rest=True),))
    async def share(self, ctx: Context, what: str) -> None:
        item = await self.recorder.knowledge(ctx, what)
        ctx.reply("exchange.recorded.knowledge", id=item.id)

    @on(Message)
    async def answered(self, ctx: Context, msg: Message) -> None:
        """The next message after a question: a number (resource type, a suggestion) or yes/no."""
        if msg.is_edit or self.services.router.is_command(msg.body):
            return
        word = msg.body.strip().lower().rstrip("!.")
        found = _NUMBER.match(word)
        if found is None and word not in YES and word not in NO:
            return  # cheap: most messages end here without a query
        prompt = await store.prompt(ctx.session, msg.sender)
        if prompt is None or prompt.room_id != msg.room_id:
            return
        ctx = await self._in_members_language(ctx, msg.sender)
        if prompt.kind == "consent":
            if word in YES or word in NO:
                await self._answer(ctx, prompt.refs[0], yes=word in YES)
            return
        if found is None:
            return
        chosen = int(found.group(1))
        if prompt.kind == "resource":
            await self._resource_chosen(ctx, prompt.refs[0], chosen)
        elif prompt.kind == "pick":
            if not 1 <= chosen <= len(prompt.refs):
                ctx.reply("exchange.error.pick", count=len(prompt.refs))
                return
            ctx.reply(await self.introductions.introduce(ctx, ctx.sender, prompt.refs[chosen - 1]))

    async def _resource_chosen(self, ctx: Context, item_id: int, chosen: int) -> None:
        if not 1 <= chosen <= len(RESOURCES):
            ctx.reply("exchange.error.resource_number", count=len(RESOURCES))
            return
        item = await store.item(ctx.session, item_id)
        dm = await self.services.direct.open(ctx.sender)  # before writing
        await store.clear_prompt(ctx.session, ctx.sender)
        if item is None or item.status != PENDING:
            return
        item.resource, item.status = RESOURCES[chosen - 1], OPEN
        await self._opened(ctx, item, dm)

    async def _answer(self, ctx: Context, match_id: int, *, yes: bool) -> None:
        if yes:
            ctx.reply(await self.introductions.introduce(ctx, ctx.sender, match_id))
        else:
            ctx.reply(await self.introductions.decline(ctx, ctx.sender, match_id))

    async def _in_members_language(self, ctx: Context, user_id: str) -> Context:
        """No command word to go by: the member's choice, else the language of their latest request."""
        hint = await store.last_lang(ctx.session, user_id)
        lang = await self.services.languages.for_user(ctx.session, user_id, ctx.room_id, hint=hint)
        return replace(ctx, lang=lang)  # the same transaction and queue; other handlers keep theirs

    @on(Reaction, key=PIN_KEY)
    async def pinned(self, ctx: Context, reaction: Reaction) -> None:
        message = await self.services.rooms.fetch_message(reaction.room_id, reaction.target)
        if message is None or message.sender == self.services.bot_user_id:
            return
        ctx = await self._in_members_language(ctx, reaction.sender)
        author = message.sender
        agreed = author == reaction.sender or author in await self.services.privacy.listed(ctx.session, [author])
        if not agreed:
            ctx.notice(reaction.room_id, ctx.t("exchange.pin.not_listed"), reply_to=reaction.target)
            return
        item = await self.recorder.pin(ctx, message, reaction.sender)
        if item is not None:
            ctx.notice(reaction.room_id, ctx.t("exchange.pin.saved", id=item.id), reply_to=reaction.target)

    @on(Reaction, key=RENEW_KEY)
    async def renew_reacted(self, ctx: Context, reaction: Reaction) -> None:
        entries = await ctx.ledger.find(REMINDER, event_id=reaction.target)
        if not entries or entries[0].subject is None:
            return
        item = await store.item(ctx.session, int(entries[0].subject))
        if item is None or item.author != reaction.sender:
            return
        self.recorder.renew(item)
        lang = await self.services.languages.for_user(ctx.session, ctx.sender, hint=item.lang)
        them = Sender(self.services, ctx.session, lang, ctx.queued)  # a reaction has no language of its own
        them.notice(reaction.room_id, them.t("exchange.renewed", id=item.id, date=render.date(them, item)))

    @command("renew", nl=("verleng",), de=("verlaengere", "verlängere"), help="exchange.renew.help", args=(ID_ARG,))
    async def renew(self, ctx: Context, nr: int) -> None:
        item = await self._own(ctx, nr)
        self.recorder.renew(item)
        ctx.reply("exchange.renewed", id=item.id, date=render.date(ctx, item))

    # ---- reading -----------------------------------------------------------------------------

    @command(
        "requests",
        nl=("verzoeken",),
        de=("anfragen",),
        help="exchange.requests.help",
        args=(Arg("topic", optional=True),),
    )
    async def requests(self, ctx: Context, topic: str | None) -> None:
        slug = None
        if topic:
            found = self.services.directory.find(topic)
            if found is None:
                raise UsageError("exchange.error.no_theme", theme=topic)
            slug = found.slug
        items = await store.open_requests(ctx.session, slug)
        ctx.reply_markdown(render.listing(ctx, items, "exchange.requests.none"))

    @command("request", nl=("verzoek",), de=("anfrage",), help="exchange.request.help", args=(ID_ARG,))
    async def request(self, ctx: Context, nr: int) -> None:
        item = await store.item(ctx.session, nr)
        if item is None or (item.status != OPEN and item.author != ctx.sender):
            raise UsageError("exchange.error.no_such", id=nr)
        listed = item.author is not None and (
            item.author == ctx.sender or item.author in await self.services.privacy.listed(ctx.session, [item.author])
        )
        ctx.reply_markdown(render.detail(ctx, item, named=listed))

    @command("close", nl=("sluit",), de=("schliesse", "schließe"), help="exchange.close.help", args=(ID_ARG,))
    async def close(self, ctx: Context, nr: int) -> None:
        item = await store.item(ctx.session, nr)
        if item is None:
            raise UsageError("exchange.error.no_such", id=nr)
        if item.author != ctx.sender and not await self.services.permissions.is_community_moderator(ctx.sender):
            raise Forbidden("exchange.error.not_yours", id=nr)
        item.status = CLOSED
        await self.introductions.withdraw(ctx, item)
        ctx.reply("exchange.closed", id=nr)

    @command("mine", nl=("mijn",), de=("meine",), help="exchange.mine.help", perm=Perm.MEMBER)
    async def mine(self, ctx: Context) -> None:
        ctx.reply_markdown(render.listing(ctx, await store.mine(ctx.session, ctx.sender), "exchange.mine.none"))

    @command("find", nl=("vind",), de=("finde",), help="exchange.find.help", args=(Arg("words", rest=True),))
    async def find(self, ctx: Context, words: str) -> None:
        translations = await self._translations(words, ctx.lang)
        ids = await search.find_ids(ctx.session, words, translations, self.config.find_limit)
        found = await store.items(ctx.session, ids)
        ctx.reply_markdown(render.listing(ctx, found, "exchange.find.none", query=words))

    async def _translations(self, words: str, lang: str) -> list[str]:
        """The query in the other languages, when a model is installed (optional: the taxonomy
        already bridges the languages for the concepts it knows)."""
        translator = self.services.translator
        if translator is None or not translator.has_models():
            return []
        source = await translator.detect(words) or lang
        out = []
        for target in LANGS:
            if target != source and translator.can_translate(source, target):
                try:
                    out.append(await translator.translate(words, source, target))
                except Exception:  # a model hiccup must not stop the search
                    continue
        return out

    # ---- matches -----------------------------------------------------------------------------

    @command("matches", nl=("koppelingen",), de=("treffer",), help="exchange.matches.help")
    async def matches(self, ctx: Context) -> None:
        rows = await store.matches_for(ctx.session, ctx.sender)
        lines = []
        for row in rows:
            seek, offer = await store.item(ctx.session, row.seek_id), await store.item(ctx.session, row.offer_id)
            if seek is None or offer is None:
                continue
            theirs = offer if seek.author == ctx.sender else seek
            why = self.introductions.explanation(ctx, row.shared, row.km)
            lines.append(render.match_line(ctx, row, theirs, why))
        ctx.reply_markdown(
            "\n".join([ctx.t("exchange.matches.title"), *lines]) if lines else ctx.t("exchange.matches.none")
        )

    @command("introduce", nl=("voorstellen",), de=("vorstellen",), help="exchange.introduce.help", args=(ID_ARG,))
    async def introduce(self, ctx: Context, nr: int) -> None:
        ctx.reply(await self.introductions.introduce(ctx, ctx.sender, nr))

    @command("decline", nl=("afwijzen",), de=("ablehnen",), help="exchange.decline.help", args=(ID_ARG,))
    async def decline(self, ctx: Context, nr: int) -> None:
        ctx.reply(await self.introductions.decline(ctx, ctx.sender, nr))

    # ---- helpers -----------------------------------------------------------------------------

    async def _own(self, ctx: Context, item_id: int) -> ExchangeItem:
        item = await store.item(ctx.session, item_id)
        if item is None:
            raise UsageError("exchange.error.no_such", id=item_id)
        if item.author != ctx.sender:
            raise Forbidden("exchange.error.not_yours", id=item_id)
        return item
