"""The members plugin on the core ledger, through the test harness: every
bot message that shows a member's profile (the introduction, !profile,
!members) is recorded naming them, so erasing them redacts it, and only
what names them."""

from __future__ import annotations

import pytest

from diabot.privacy import ErasureReason
from diabot.testing import TestBot
from plugins.members.models import Profile

ANNA, BERND = "@anna:x.nl", "@bernd:x.de"
DIALOGUE = ("1", "ja", "Bakkerij Anna", "Emmen", "nederland", "Bakkerij", "energietransitie", "1", "overslaan", "ja")


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "members"])
    yield bot
    await bot.stop()


async def onboard(bot: TestBot, user: str, *, intro: bool) -> str:
    await bot.join(user, bot.space)
    dm = bot.dm(user)
    await bot.join(user, dm)
    for answer in DIALOGUE:
        await bot.say(user, answer, room=dm)
    await bot.say(user, "ja" if intro else "nee", room=dm)
    return dm


async def recorded(bot: TestBot, user_id: str) -> list[tuple[str, str | None, str | None]]:
    async with bot.services.work() as uow:
        return [(e.purpose, e.subject, e.event_id) for e in await uow.ledger.find(user_id=user_id)]


async def test_what_shows_a_profile_is_redacted_when_its_member_is_erased(bot):
    welcome = bot.theme_room("welcome")
    anna_dm = await onboard(bot, ANNA, intro=True)
    (intro,) = bot.sent(welcome)
    assert "Bakkerij Anna" in intro.body
    bernd_dm = await onboard(bot, BERND, intro=False)
    (own,) = await bot.say(ANNA, "!profiel", room=anna_dm)
    (listing,) = await bot.say(BERND, "!mitglieder energietransitie", room=bernd_dm)
    assert "Bakkerij Anna" in listing.body
    assert await recorded(bot, ANNA) == [
        ("members.intro", ANNA, intro.event_id),
        ("members.profile", None, own.event_id),
        ("members.profile", None, listing.event_id),  # the listing shows both of them
    ]
    assert await recorded(bot, BERND) == [("members.profile", None, listing.event_id)]

    async with bot.services.work() as uow:
        await bot.services.privacy.erase(uow, ANNA, ErasureReason.REQUEST)
    await bot.settle()
    redacted = {s.redacts for s in bot.sent(event_type="m.room.redaction")}
    assert redacted == {intro.event_id, own.event_id, listing.event_id}
    assert await recorded(bot, ANNA) == [] and await recorded(bot, BERND) == []  # the listing is gone for both
    async with bot.db.sessions() as session:
        assert await session.get(Profile, ANNA) is None and await session.get(Profile, BERND) is not None
