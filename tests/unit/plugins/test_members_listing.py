"""The members plugin tells other features (events: who is coming) which
members agreed to be listed, through the core's privacy service."""

from __future__ import annotations

from diabot.testing import TestBot
from plugins.members.models import Profile

ANNA, BERND, CARLA = "@anna:x", "@bernd:x", "@carla:x"


async def test_only_members_who_agreed_are_listed(tmp_path):
    async with await TestBot.start(tmp_path, plugins=["core", "members"]) as bot:
        async with bot.db.transaction() as session:
            session.add(Profile(user_id=ANNA, listed=True, consent_version=1))
            session.add(Profile(user_id=BERND, listed=False, consent_version=1))
        async with bot.db.sessions() as session:
            assert await bot.services.privacy.listed(session, [ANNA, BERND, CARLA]) == {ANNA}
            assert await bot.services.privacy.listed(session, []) == set()
        bot.add_member(ANNA, bot.space)
        changed = await bot.say(ANNA, "!profiel zet zichtbaar nee", room=bot.open_chat(ANNA))
        assert bot.i18n.t("nl", "members.profile_set.done") in changed.text
        async with bot.db.sessions() as session:
            assert await bot.services.privacy.listed(session, [ANNA, BERND]) == set()
