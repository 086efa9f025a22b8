"""The translate plugin on the core ledger, through the test harness: an edit
edits the first part of each translation, a redaction takes translations and
their edits back, a redacted translation is forgotten (a new request makes a
new one), an erasure takes back the member's translated words and nobody
else's, and a reaction or a request never translates a command."""

from __future__ import annotations

import pytest

from diabot.privacy import ErasureReason
from diabot.testing import TestBot, fake_translator

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"
NL = "Ik heb morgen een vergadering met de gemeente"
DE = "Ich habe morgen eine Besprechung mit der Gemeinde und das ist gut"


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "translate"], translator=fake_translator())
    yield bot
    await bot.stop()


def group(bot: TestBot) -> str:
    return bot.rooms.add_room(members=[ANNA, BERND, CARLA])


def reactions_room(bot: TestBot) -> str:
    room = bot.theme_room("knowledge")  # themes.yaml: translation on reactions
    for user in (ANNA, BERND, CARLA):
        bot.rooms.add_member(room, user)
    return room


async def entries(bot: TestBot, **filters: str):
    async with bot.services.work() as uow:
        return await uow.ledger.find(**filters)


async def test_an_edit_edits_the_translation_and_a_redaction_takes_both_back(bot):
    room = group(bot)
    (translation,) = await bot.say(ANNA, NL, room=room, event_id="$nl")
    (edit,) = await bot.say(ANNA, NL.replace("morgen", "vandaag"), room=room, edit_of="$nl")
    assert edit.relates_to == {"rel_type": "m.replace", "event_id": translation.event_id}
    assert "vandaag" in edit.content["m.new_content"]["body"] and edit.content["m.mentions"] == {}
    recorded = [(e.purpose, e.user_id, e.detail, e.event_id) for e in await entries(bot, subject="$nl")]
    assert recorded == [
        ("translate.translation", ANNA, "de", translation.event_id),
        ("translate.edit", ANNA, "de", edit.event_id),
    ]

    redactions = await bot.redact(ANNA, "$nl", room=room)
    assert sorted(r.redacts for r in redactions) == sorted([translation.event_id, edit.event_id])
    assert await entries(bot, subject="$nl") == []
    # An edit after the redaction finds nothing to edit.
    assert await bot.say(ANNA, NL, room=room, edit_of="$nl") == []


async def test_an_edit_of_an_untranslated_message_translates_nothing(bot):
    room = group(bot)
    assert await bot.say(ANNA, "Ja hoor", room=room, event_id="$short") == []
    assert await bot.say(ANNA, NL, room=room, edit_of="$short") == []


async def test_a_redacted_translation_is_forgotten_and_made_again_on_request(bot):
    room = reactions_room(bot)
    await bot.say(ANNA, NL, room=room, event_id="$nl")
    (first,) = await bot.react(BERND, "$nl", "🇩🇪", room=room)
    assert await bot.react(CARLA, "$nl", "🇩🇪", room=room) == []  # there already
    await bot.redact(BERND, first.event_id, room=room)  # a moderator removes it
    assert await entries(bot, subject="$nl") == []
    (again,) = await bot.react(CARLA, "$nl", "🇩🇪", room=room)
    assert again.event_id != first.event_id and again.body.endswith("[de]")


async def test_an_erasure_takes_back_the_members_translations_and_their_edits_only(bot):
    room = group(bot)
    (mine,) = await bot.say(ANNA, NL, room=room, event_id="$anna")
    (edit,) = await bot.say(ANNA, NL.replace("morgen", "vandaag"), room=room, edit_of="$anna")
    (theirs,) = await bot.say(BERND, DE, room=room, event_id="$bernd")
    async with bot.services.work() as uow:
        await bot.services.privacy.erase(uow, ANNA, ErasureReason.REQUEST)
    await bot.settle()
    redacted = {s.redacts for s in bot.sent(room, "m.room.redaction")}
    assert redacted == {mine.event_id, edit.event_id}
    assert theirs.event_id not in redacted
    assert await entries(bot, user_id=ANNA) == [] and len(await entries(bot, user_id=BERND)) == 1
    # Her next edit of the old message is not translated again.
    assert await bot.say(ANNA, NL, room=room, edit_of="$anna") == []


async def test_a_command_is_never_translated_on_request(bot):
    room = reactions_room(bot)
    command = f"!echo {NL}"  # long enough and clearly Dutch: only being a command keeps it out
    await bot.say(ANNA, command, room=room, event_id="$command")
    await bot.say(ANNA, "Ja hoor", room=room, event_id="$short")
    assert await bot.react(BERND, "$command", "🇩🇪", room=room) == []
    assert await bot.react(BERND, "$short", "🇩🇪", room=room) == []
    asked = await bot.say(BERND, "!vertaal de", room=room, reply_to="$command")
    assert asked.text == bot.i18n.t("nl", "translate.nothing_to_translate")
    # The barrier: a message worth translating is translated on the same request.
    await bot.say(ANNA, NL, room=room, event_id="$nl")
    (translated,) = await bot.react(BERND, "$nl", "🇩🇪", room=room)
    assert translated.body.endswith(f"{NL} [de]")
    assert await entries(bot, subject="$command") == []
