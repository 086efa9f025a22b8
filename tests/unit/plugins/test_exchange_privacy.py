"""The migration turns onboarding profiles' offers/seeks into matchable rows (indexed at the
plugin's start); !mydata exports a member's part; the digest and report providers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from diabot.storage.db import migrate
from diabot.testing import TestBot
from plugins.exchange import gdpr
from plugins.exchange.insights import ExchangeInsights
from plugins.exchange.models import ExchangeItem

ANNA, BERND = "@anna:firma.de", "@bernd:bedrijf.nl"


async def test_the_migration_turns_profile_offers_and_seeks_into_rows(tmp_path):
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate, url, "0009")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO profiles (user_id, sector, town, side, themes, offers, seeks, listed, consent_version,"
            " consent_at, last_active_at) VALUES (?, ?, ?, ?, '[]', ?, ?, 1, 1, '2026-01-01', '2026-01-01')",
            (BERND, "lassen en metaalbewerking", "Emmen", "nl", json.dumps(["facilities", "nonsense"]), "[]"),
        )
        db.execute(
            "INSERT INTO profiles (user_id, sector, town, side, themes, offers, seeks, listed, consent_version,"
            " consent_at, last_active_at)"
            " VALUES (?, NULL, NULL, NULL, '[]', '[]', ?, 0, 1, '2026-01-01', '2026-01-01')",
            (ANNA, json.dumps(["people", "training"])),
        )
    await asyncio.to_thread(migrate, url, "head")
    with sqlite3.connect(path) as db:
        got = db.execute(
            "SELECT author, kind, resource, text, side, town, origin FROM exchange_items ORDER BY id"
        ).fetchall()
    assert got == [
        (BERND, "offer", "facilities", "lassen en metaalbewerking", "nl", "Emmen", "profile"),
        (ANNA, "seek", "people", "", None, None, "profile"),
        (ANNA, "seek", "training", "", None, None, "profile"),
    ]


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "exchange"])
    for user in (ANNA, BERND):
        bot.add_member(user, bot.theme_room("trade"))
    yield bot
    await bot.stop()


async def test_profile_rows_are_indexed_at_start_and_match(tmp_path):
    bot = await TestBot.start(tmp_path, plugins=["core", "exchange"], start_plugins=False)
    try:
        bot.add_member(ANNA, bot.theme_room("trade"))
        async with bot.db.transaction() as session:
            session.add(
                ExchangeItem(
                    kind="offer",
                    status="open",
                    author=BERND,
                    text="lassen, RVS",
                    resource="facilities",
                    side="nl",
                    town="Emmen",
                    concepts=[],
                    search="",
                    origin="profile",
                )
            )
        await bot.plugin("exchange").start()
        replies = await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=bot.theme_room("trade"))
        await bot.say(ANNA, "4", room=bot.theme_room("trade"))
        found = (await bot.say(ANNA, "!finde Schweißen", room=bot.theme_room("trade"))).text
        assert "lassen, RVS" in found, replies.text
        assert "lassen, RVS" in bot.sent(room=bot.dm(ANNA))[-1].body
    finally:
        await bot.stop()


async def test_mydata_exports_the_members_requests_matches_and_question(bot):
    room = bot.theme_room("trade")
    await bot.say(BERND, "!bied lassen van RVS", room=room)
    await bot.say(BERND, "1", room=room)
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)  # waits for its resource type
    async with bot.db.sessions() as session:
        anna = await gdpr.export(session, ANNA)
        bernd = await gdpr.export(session, BERND)
        nobody = await gdpr.export(session, "@carla:x")
    assert anna is not None and anna["items"][0]["text"] == "Schweißer für Edelstahl"
    assert anna["pending_question"] == {"kind": "resource", "refs": [2]}
    assert bernd is not None and bernd["items"][0]["status"] == "open"
    assert nobody is None


async def test_digest_lines_and_report_rows(bot):
    room = bot.theme_room("trade")
    since = bot.clock() - timedelta(minutes=1)
    await bot.say(BERND, "!bied lassen van RVS", room=room)
    await bot.say(BERND, "4", room=room)
    await bot.say(ANNA, "!suche Schweißer für Edelstahl", room=room)
    await bot.say(ANNA, "4", room=room)
    insights = ExchangeInsights(bot.services)
    async with bot.db.sessions() as session:
        lines = await insights.digest_lines(session, ANNA, since, "de")
        none_new = await insights.digest_lines(session, ANNA, datetime.now(UTC) + timedelta(days=1), "de")
        rows = await insights.report_rows(session, "trade")
        other_theme = await insights.report_rows(session, "energy")
    assert lines == ["🤝 #1 „lassen van RVS“ — beide: Edelstahl, Schweißen"]
    assert none_new == []
    kinds = {(r.kind, r.resource, r.side): r.count for r in rows}
    assert kinds == {
        ("offer", "facilities", "nl"): 1,
        ("seek", "facilities", "de"): 1,
        ("match", "facilities", None): 1,
    }
    assert all(r.named == () for r in rows)  # nobody agreed to be listed
    assert other_theme == []
