"""Suggestions and introductions.

When a seek opens, the open offers that fit are scored (or the reverse) and the author gets the
top three in the direct chat, as m.text (it must reach the phone). They pick one (the number, or
`!introduce <match id>`); the other side is asked in *their* direct chat, yes or no, seeing the
request's text but nobody's name. Only when both agreed does the bot open a room with the two
(intent `exchange.intro:<match id>`, encrypted) and introduce them, in Dutch and German.
A refusal tells the one who asked only that there is no introduction this time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from diabot.errors import UsageError
from diabot.plugin import Services
from diabot.sending import Sender

from . import matching, store
from .matching import Features, Score
from .models import OFFER, SEEK, ExchangeItem, ExchangeMatch
from .places import find_place
from .text import concept_token, keywords, keywords_of_search

SUGGESTED, ASKED, INTRODUCED, DECLINED = "suggested", "asked", "introduced", "declined"
INTRO_INTENT = "exchange.intro:"


def features(item: ExchangeItem | Plain) -> Features:
    return Features(
        kind=item.kind,
        concepts=frozenset(item.concepts or ()),
        theme=item.theme,
        resource=item.resource,
        keywords=frozenset(keywords_of_search(item.search) if item.search else keywords(item.text)),
        place=find_place(item.town) if item.town else None,
        side=item.side,
    )


@dataclass(frozen=True)
class Plain:
    """The columns matching reads, copied off an ORM row."""

    kind: str
    text: str
    search: str
    concepts: tuple[str, ...]
    theme: str | None
    resource: str | None
    town: str | None
    side: str | None

    @classmethod
    def of(cls, item: ExchangeItem) -> Plain:
        return cls(
            item.kind,
            item.text,
            item.search or "",
            tuple(item.concepts or ()),
            item.theme,
            item.resource,
            item.town,
            item.side,
        )


def candidate_tokens(mine: Features) -> list[str]:
    """What to look for in the index: the request's specific concepts (a match needs one), else
    its keywords (or two of those). General concepts would find half the table."""
    specific = [concept_token(c) for c in mine.concepts if not matching.general(c)]
    return specific or sorted(mine.keywords)


def _rank(mine: Features, plain: list[tuple[int, Plain]]) -> list[tuple[int, Score]]:
    return matching.best(mine, [(i, features(p)) for i, p in plain])


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Introductions:
    def __init__(self, services: Services):
        self.services = services

    def now(self) -> datetime:
        return self.services.scheduler.now()

    def explanation(self, sender: Sender, shared: list[str], km: float | None) -> str:
        number = self.services.i18n.number(sender.lang, round(km)) if km is not None else None
        return matching.explain(shared, km, sender.lang, sender.t("exchange.both"), number)

    async def candidates(self, sender: Sender, item: ExchangeItem) -> list[tuple[ExchangeItem, Score]]:
        """The best open requests of the other kind for `item` (not the author's own)."""
        other = OFFER if item.kind == SEEK else SEEK
        mine = features(item)
        ids = await store.search_ids(
            sender.session,
            [candidate_tokens(mine)],
            kinds=(other,),
            limit=store.MAX_CANDIDATES,
            exclude_author=item.author,
        )
        found = await store.items(sender.session, ids)
        by_id = {i.id: i for i in found}
        # Stemming and scoring up to MAX_CANDIDATES texts is CPU work: off the event loop, on plain
        # values (the ORM rows stay on the loop).
        plain = [(i.id, Plain.of(i)) for i in found]
        best = await asyncio.to_thread(_rank, mine, plain)
        return [(by_id[i], s) for i, s in best]

    async def suggest(self, sender: Sender, item: ExchangeItem, dm: str) -> list[ExchangeMatch]:
        """Record the matches of a newly opened request and send them to its author in `dm`
        (their direct chat, opened by the caller before writing: opening may write itself)."""
        if item.author is None:
            return []
        found = await self.candidates(sender, item)
        if not found:
            return []
        rows = []
        for other, scored in found:
            seek, offer = (item, other) if item.kind == SEEK else (other, item)
            row = ExchangeMatch(
                seek_id=seek.id,
                offer_id=offer.id,
                suggested_to=item.author,
                other=other.author or "",
                score=scored.score,
                shared=list(scored.shared),
                km=scored.km,
                state=SUGGESTED,
                created_at=self.now(),
            )
            sender.session.add(row)
            rows.append((row, other))
        await sender.session.flush()
        them = await self._speaker(sender, item.author, item.lang)
        lines = [
            them.t(
                "exchange.suggestion.line",
                n=n,
                id=row.id,
                text=_quote(other.text),
                why=self.explanation(them, row.shared, row.km),
            )
            for n, (row, other) in enumerate(rows, 1)
        ]
        key = "exchange.suggestion.offers" if item.kind == SEEK else "exchange.suggestion.seeks"
        room = dm
        body = "\n".join([them.t(key, id=item.id, text=_quote(item.text)), *lines, them.t("exchange.suggestion.pick")])
        them.text(room, body, mentions=[item.author])
        await store.set_prompt(sender.session, item.author, room, "pick", [row.id for row, _ in rows])
        return [row for row, _ in rows]

    async def _speaker(self, sender: Sender, user_id: str, hint: str | None = None) -> Sender:
        """A sender in `sender`'s transaction speaking `user_id`'s language (their choice, else
        `hint`: the language they wrote their request in)."""
        lang = await self.services.languages.for_user(sender.session, user_id, hint=hint)
        return Sender(self.services, sender.session, lang, sender.queued)

    async def introduce(self, sender: Sender, user_id: str, match_id: int) -> str:
        """`user_id` wants match `match_id`: ask the other side, or (the other side saying yes)
        open the room. Returns the reply key for `user_id`. Rooms and direct chats are opened
        before anything is written (opening one may write in its own transaction)."""
        row = await store.match(sender.session, match_id)
        if row is None or user_id not in (row.suggested_to, row.other):
            raise UsageError("exchange.error.no_match", id=match_id)
        if row.state == INTRODUCED:
            return "exchange.intro.already"
        if row.state == DECLINED:
            return "exchange.intro.closed"
        if user_id == row.suggested_to:
            if row.state == ASKED:
                return "exchange.intro.waiting"
            await self._ask_other(sender, row)
            return "exchange.intro.asked"
        if row.state != ASKED:  # the other side cannot start what was never asked of them
            raise UsageError("exchange.error.no_match", id=match_id)
        await self._open_room(sender, row)
        return "exchange.intro.done"

    async def decline(self, sender: Sender, user_id: str, match_id: int) -> str:
        row = await store.match(sender.session, match_id)
        if row is None or user_id not in (row.suggested_to, row.other):
            raise UsageError("exchange.error.no_match", id=match_id)
        if row.state in (INTRODUCED, DECLINED):
            return "exchange.intro.closed"
        asked = row.state == ASKED and user_id == row.other
        dm = await self.services.direct.open(row.suggested_to) if asked else None
        row.state, row.answered_at = DECLINED, self.now()
        await store.clear_prompt(sender.session, user_id)
        if dm is not None:
            # The one who asked learns only that nothing comes of it: not who, not why.
            them = await self._speaker(sender, row.suggested_to, await self._lang_of_asker(sender, row))
            them.text(dm, them.t("exchange.intro.refused", id=row.id), mentions=[row.suggested_to])
        return "exchange.intro.declined"

    async def _ask_other(self, sender: Sender, row: ExchangeMatch) -> None:
        seek = await store.item(sender.session, row.seek_id)
        offer = await store.item(sender.session, row.offer_id)
        if seek is None or offer is None or not row.other:
            raise UsageError("exchange.error.no_match", id=row.id)
        theirs, asking = (offer, seek) if row.other == offer.author else (seek, offer)
        them = await self._speaker(sender, row.other, theirs.lang)
        room = await self.services.direct.open(row.other)
        row.state = ASKED
        await store.clear_prompt(sender.session, row.suggested_to)
        key = "exchange.consent.for_offer" if theirs.kind == OFFER else "exchange.consent.for_seek"
        them.text(
            room,
            them.t(
                key,
                id=row.id,
                mine=_quote(theirs.text),
                theirs=_quote(asking.text),
                why=self.explanation(them, row.shared, row.km),
            ),
            mentions=[row.other],
        )
        await store.set_prompt(sender.session, row.other, room, "consent", [row.id])

    async def _open_room(self, sender: Sender, row: ExchangeMatch) -> None:
        seek = await store.item(sender.session, row.seek_id)
        offer = await store.item(sender.session, row.offer_id)
        asker = seek if seek is not None and seek.author == row.suggested_to else offer
        them = await self._speaker(sender, row.suggested_to, asker.lang if asker else None)
        people = [row.suggested_to, row.other]
        i18n = self.services.i18n
        name = f"{i18n.t('nl', 'exchange.room.name')} / {i18n.t('de', 'exchange.room.name')}"
        room = await self.services.rooms.create_room(
            name, "", intent=f"{INTRO_INTENT}{row.id}", invite=people, encrypted=True
        )
        dm = await self.services.direct.open(row.suggested_to)
        params = {
            "a": row.suggested_to,
            "b": row.other,
            "seek": _quote(seek.text if seek else ""),
            "offer": _quote(offer.text if offer else ""),
        }
        intro = "\n\n".join(
            i18n.t(lang, "exchange.room.intro", **params, why=self._why(lang, row)) for lang in ("nl", "de")
        )
        sender.text(room, intro, mentions=people)
        row.state, row.answered_at, row.room_id = INTRODUCED, self.now(), room
        await store.clear_prompt(sender.session, row.other)
        # The member who asked hears of it in the direct chat too (the invite alone may go unseen).
        them.text(dm, them.t("exchange.intro.accepted", id=row.id), mentions=[row.suggested_to])

    async def _lang_of_asker(self, sender: Sender, row: ExchangeMatch) -> str | None:
        for item_id in (row.seek_id, row.offer_id):
            found = await store.item(sender.session, item_id)
            if found is not None and found.author == row.suggested_to:
                return found.lang
        return None

    def _why(self, lang: str, row: ExchangeMatch) -> str:
        number = self.services.i18n.number(lang, round(row.km)) if row.km is not None else None
        return matching.explain(row.shared, row.km, lang, self.services.i18n.t(lang, "exchange.both"), number)

    async def withdraw(self, sender: Sender, item: ExchangeItem) -> None:
        """A closed or expired request: its suggestions and unanswered introductions go."""
        for row in await store.matches_of_item(sender.session, item.id):
            if row.state in (SUGGESTED, ASKED):
                await sender.session.delete(row)
