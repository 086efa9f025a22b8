"""The exchange end to end on the TestBot: a German seek and a Dutch offer about the same thing
meet through the taxonomy (no translation model), the seeker gets the top matches privately as
m.text, the other side is asked without anyone's name, and only when both agree a room opens with
a bilingual introduction. A refusal reveals nothing; unrelated requests do not match."""

from __future__ import annotations

import pytest

from diabot.testing import TestBot

ANNA, BERND, CARLA = "@anna:firma.de", "@bernd:bedrijf.nl", "@carla:bedrijf.nl"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "exchange"])
    for user in (ANNA, BERND, CARLA):
        bot.add_member(user, bot.theme_room("trade"))
    yield bot
    await bot.stop()


async def offer_and_seek(bot: TestBot) -> None:
    room = bot.theme_room("trade")
    await bot.say(BERND, "!bied lassen van RVS", room=room)
    await bot.say(BERND, "1", room=room)  # resource type: specialist knowledge
    await bot.say(CARLA, "!bied boekhouding en salarisadministratie", room=room)
    await bot.say(CARLA, "1", room=room)


async def test_a_german_seek_meets_a_dutch_offer_and_they_are_introduced_after_both_agree(bot):
    await offer_and_seek(bot)
    room = bot.theme_room("trade")
    asked = await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    assert "1." in asked.text and "Ressource" in asked.text  # the numbered question, in German
    replies = await bot.say(ANNA, "3", room=room)  # people
    assert "Gesuch #3 festgehalten" in replies.text
    (suggestion,) = replies.in_room(bot.dm(ANNA))
    assert suggestion.content["msgtype"] == "m.text"
    assert suggestion.content["m.mentions"] == {"user_ids": [ANNA]}
    body = suggestion.body
    assert "lassen van RVS" in body and "boekhouding" not in body  # the unrelated offer does not match
    assert "beide: Edelstahl, Schweißen" in body  # the explanation, in the reader's language
    assert BERND not in body

    asking = await bot.say(ANNA, "1", room=bot.dm(ANNA))
    (question,) = asking.in_room(bot.dm(BERND))
    assert question.content["msgtype"] == "m.text"
    assert "Schweißer für Edelstahl" in question.body and "beide: lassen, RVS" in question.body, question.body
    assert ANNA not in question.body  # no name before consent
    assert not [r for r in bot.rooms.created if r.intent.startswith("exchange.intro:")]

    done = await bot.say(BERND, "ja", room=bot.dm(BERND))
    (intro_room,) = [r for r in bot.rooms.created if r.intent.startswith("exchange.intro:")]
    assert {u for u, m in intro_room.members.items() if m == "invite"} == {ANNA, BERND} and intro_room.encrypted
    (intro,) = done.in_room(intro_room.room_id)
    assert intro.content["msgtype"] == "m.text"
    assert set(intro.content["m.mentions"]["user_ids"]) == {ANNA, BERND}
    assert "maak kennis" in intro.body and "Lernen Sie sich kennen" in intro.body
    assert "Kennenlernen" in intro_room.name or "Kennismaking" in intro_room.name


async def test_a_refusal_reveals_nothing_and_opens_no_room(bot):
    await offer_and_seek(bot)
    room = bot.theme_room("trade")
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    await bot.say(ANNA, "3", room=room)
    await bot.say(ANNA, "!vorstellen 1", room=bot.dm(ANNA))
    refused = await bot.say(BERND, "nee", room=bot.dm(BERND))
    assert "Begrepen: geen introductie" in refused.in_room(bot.dm(BERND)).text
    (told,) = refused.in_room(bot.dm(ANNA))
    assert told.content["msgtype"] == "m.text" and "keine Vorstellung" in told.body
    assert BERND not in told.body and "bernd" not in told.body
    assert not [r for r in bot.rooms.created if r.intent.startswith("exchange.intro:")]
    # Saying yes afterwards changes nothing; nor can anyone else answer for Bernd.
    assert "gesloten" in (await bot.say(BERND, "!voorstellen 1", room=bot.dm(BERND))).text
    assert "geen match 1" in (await bot.say(CARLA, "!voorstellen 1", room=bot.dm(CARLA))).text


async def test_the_other_side_cannot_start_an_introduction_nobody_asked_for(bot):
    await offer_and_seek(bot)
    room = bot.theme_room("trade")
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    await bot.say(ANNA, "3", room=room)
    replies = await bot.say(BERND, "!voorstellen 1", room=room)
    assert "geen match 1" in replies.text
    assert not [r for r in bot.rooms.created if r.intent.startswith("exchange.intro:")]


async def test_matches_requests_mine_and_close(bot):
    await offer_and_seek(bot)
    room = bot.theme_room("trade")
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    await bot.say(ANNA, "3", room=room)
    matches = await bot.say(ANNA, "!treffer", room=bot.dm(ANNA))
    assert "Treffer 1: „lassen van RVS“ — beide: Edelstahl, Schweißen [vorgeschlagen]" in matches.text
    listing = (await bot.say(CARLA, "!verzoeken trade", room=room)).text
    assert "#1" in listing and "#2" in listing and "#3" in listing and BERND not in listing
    assert "#1" not in (await bot.say(ANNA, "!meine", room=room)).text
    assert "Nur der Autor von #1" in (await bot.say(ANNA, "!schliesse 1", room=room)).text
    assert "Verzoek #1 is gesloten" in (await bot.say(BERND, "!sluit 1", room=room)).text
    assert "#1" not in (await bot.say(CARLA, "!verzoeken", room=room)).text
    assert "Zurzeit keine Treffer" in (await bot.say(ANNA, "!treffer", room=bot.dm(ANNA))).text  # withdrawn
    bot.make_moderator("@mod:x")
    assert "is gesloten" in (await bot.say("@mod:x", "!sluit 2", room=room)).text


async def test_forget_withdraws_requests_matches_and_pending_introductions(bot):
    from sqlalchemy import func, select

    from plugins.exchange.models import ExchangeItem, ExchangeMatch, ExchangePrompt

    await offer_and_seek(bot)
    room = bot.theme_room("trade")
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    await bot.say(ANNA, "3", room=room)
    await bot.say(ANNA, "!vorstellen 1", room=bot.dm(ANNA))  # Bernd is asked
    await bot.say(BERND, "!vergeet", room=bot.dm(BERND))
    await bot.say(BERND, "!vergeet bevestig", room=bot.dm(BERND))
    async with bot.db.sessions() as session:
        authors = set((await session.scalars(select(ExchangeItem.author))).all())
        matches = await session.scalar(select(func.count()).select_from(ExchangeMatch))
        prompts = set((await session.scalars(select(ExchangePrompt.user_id))).all())
    assert BERND not in authors and ANNA in authors
    assert matches == 0 and BERND not in prompts
    # Nothing for Anna to wait for any more.
    assert "Zurzeit keine Treffer" in (await bot.say(ANNA, "!treffer", room=bot.dm(ANNA))).text
