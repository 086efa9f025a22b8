"""Recording: #theme and the room's theme, the numbered resource question that stays pending,
!share and 📌 (only with the author's agreement), !find across languages (FTS5, kept in step in
the same transaction), the expiry reminder as m.text with a one-tap 🔁 renewal, and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from diabot.testing import TestBot
from plugins.exchange.models import ExchangeItem

ANNA, BERND = "@anna:firma.de", "@bernd:bedrijf.nl"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "exchange"])
    for user in (ANNA, BERND):
        bot.add_member(user, bot.theme_room("trade"), bot.theme_room("energy"))
    yield bot
    await bot.stop()


async def rows(bot: TestBot) -> list[ExchangeItem]:
    async with bot.db.sessions() as session:
        return list((await session.scalars(select(ExchangeItem).order_by(ExchangeItem.id))).all())


async def test_a_request_knows_its_theme_language_side_resource_and_expiry(bot):
    replies = await bot.say(ANNA, "!suche Schulungen für Schweißer #energie", room=bot.theme_room("trade"))
    assert "Gesuch #1 festgehalten (Schulung)" in replies.text  # "Schulungen": the resource type, no question
    (item,) = await rows(bot)
    assert (item.kind, item.theme, item.lang, item.side, item.resource) == ("seek", "energy", "de", "de", "training")
    assert item.expires_at is not None and item.expires_at.date() == (bot.clock() + timedelta(days=90)).date()
    await bot.say(BERND, "!bied lassen van RVS", room=bot.theme_room("energy"))
    assert (await rows(bot))[1].theme == "energy"  # the room's theme


async def test_the_resource_question_waits_for_a_number(bot):
    room = bot.theme_room("trade")
    await bot.say(BERND, "!bied lassen van RVS", room=room)
    await bot.say(BERND, "goedemorgen allemaal", room=room)  # not an answer: it stays pending
    assert (await rows(bot))[0].status == "pending"
    assert "1 tot 10" in (await bot.say(BERND, "12", room=room)).text
    replies = await bot.say(BERND, "4", room=room)
    assert "Aanbod #1 vastgelegd (faciliteiten en apparatuur)" in replies.text
    assert [(r.status, r.resource) for r in await rows(bot)] == [("open", "facilities")]


async def test_find_in_german_finds_a_dutch_knowledge_item_and_a_request(bot):
    room = bot.theme_room("trade")
    await bot.say(BERND, "!deel https://example.nl/lassen Handleiding voor het lassen van RVS", room=room)
    await bot.say(BERND, "!deel Subsidie voor zonnepanelen op bedrijfsdaken", room=room)
    await bot.say(BERND, "!bied lasser beschikbaar in Emmen", room=room)
    await bot.say(BERND, "3", room=room)
    found = (await bot.say(ANNA, "!finde Schweißer", room=room)).text
    assert "Handleiding voor het lassen" in found and "lasser beschikbaar" in found
    assert "zonnepanelen" not in found and BERND not in found
    # The index follows the table in the same transaction: a closed request is not found any more.
    await bot.say(BERND, "!sluit 3", room=room)
    assert "lasser beschikbaar" not in (await bot.say(ANNA, "!finde Schweißer", room=room)).text
    assert "Nichts gefunden" in (await bot.say(ANNA, "!finde Blumenkohl", room=room)).text
    async with bot.db.sessions() as session:
        indexed = await session.scalar(text("SELECT count(*) FROM exchange_fts WHERE exchange_fts MATCH 'zzcwelding'"))
    assert indexed == 2


async def test_a_pin_saves_a_message_only_with_its_authors_agreement(bot):
    room = bot.theme_room("trade")
    await bot.say(ANNA, "Tipp: die Schweißnorm EN 1090 gilt auch für Edelstahl", room=room, event_id="$tip")
    await bot.say(BERND, "Zelf geschreven: RVS lassen met argon", room=room, event_id="$own")
    refused = await bot.react(BERND, "$tip", "📌", room=room)
    assert "alleen bewaren" in refused.text or "nur speichern" in refused.text or "only save" in refused.text
    assert await rows(bot) == []
    saved = await bot.react(BERND, "$own", "📌", room=room)
    assert "kennis #1" in saved.text
    (item,) = await rows(bot)
    assert item.url == f"https://matrix.to/#/{room}/$own" and item.author == BERND and item.kind == "knowledge"
    await bot.react(BERND, "$own", "📌", room=room)  # twice: once
    assert len(await rows(bot)) == 1
    await bot.react(ANNA, "$tip", "📌", room=room)  # her own message: she may
    assert [r.author for r in await rows(bot)] == [BERND, ANNA]


async def test_the_expiry_reminder_rings_and_one_tap_renews(bot):
    room = bot.theme_room("trade")
    await bot.say(ANNA, "!suche Schulungen für Schweißer", room=room)
    assert not [s for s in await bot.run_jobs(job_id="exchange.expiry") if s.room_id == bot.dm(ANNA)]
    reminded = await bot.run_jobs(advance=timedelta(days=84), job_id="exchange.expiry")
    (reminder,) = reminded.in_room(bot.dm(ANNA))
    assert reminder.content["msgtype"] == "m.text" and reminder.content["m.mentions"] == {"user_ids": [ANNA]}
    assert "läuft am" in reminder.body and "🔁" in reminder.body
    assert not (await bot.run_jobs(job_id="exchange.expiry")).in_room(bot.dm(ANNA))  # once
    renewed = await bot.react(ANNA, reminder.event_id, "🔁", room=bot.dm(ANNA))
    assert "bleibt offen bis" in renewed.text
    (item,) = await rows(bot)
    assert item.expires_at is not None and item.expires_at.date() == (bot.clock() + timedelta(days=90)).date()
    # Someone else's 🔁 renews nothing; without a renewal the request lapses.
    await bot.run_jobs(advance=timedelta(days=84), job_id="exchange.expiry")
    await bot.react(BERND, bot.sent(room=bot.dm(ANNA))[-1].event_id, "🔁", room=bot.dm(ANNA))
    await bot.run_jobs(advance=timedelta(days=7), job_id="exchange.expiry")
    assert (await rows(bot))[0].status == "expired"
    assert "Anfrage #1 bleibt offen" in (await bot.say(ANNA, "!verlaengere 1", room=room)).text
    assert (await rows(bot))[0].status == "open"


async def test_with_a_translator_the_language_is_detected_and_an_empty_search_is_translated(tmp_path):
    from diabot.testing import fake_translator

    translator = fake_translator()
    bot = await TestBot.start(tmp_path, plugins=["core", "exchange"], translator=translator)
    try:
        bot.add_member(ANNA, bot.theme_room("trade"))
        await bot.say(ANNA, "!zoek Wir suchen Schulungen für Schweißer", room=bot.theme_room("trade"))
        (item,) = await rows(bot)
        assert item.lang == "de"  # the text's language, not the command word's
        engine = translator.engine
        assert not engine.calls  # type: ignore[attr-defined]
        await bot.say(ANNA, "!vind Blumenkohl und Karotten", room=bot.theme_room("trade"))
        assert engine.calls  # type: ignore[attr-defined]  # nothing found word by word: the query translated
    finally:
        await bot.stop()
