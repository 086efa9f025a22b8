"""!report: the working document as Markdown (nl + de), CSV and a PNG chart,
from the report providers' rows; gaps on a prepared data set; names only of
listed members; moderators only."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime

import pytest

from diabot.insights import ReportRow
from diabot.testing import TestBot
from plugins.digest.report import Report, report_csv
from plugins.members.models import Profile

ANNA, MOD = "@anna:x", "@mod:x"
NOW = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)

ROWS = [
    # energy/knowledge: sought on both sides, offered by NL -> no gap
    ReportRow("energy", "knowledge", "nl", "offer", 2, ("Zonnepark Emmen",)),
    ReportRow("energy", "knowledge", "de", "seek", 3),
    ReportRow("energy", "knowledge", "nl", "seek", 1),
    # energy/capacity: sought, nobody offers -> a need without an offer
    ReportRow("energy", "capacity", "de", "seek", 4, ("Stadtwerke Meppen",)),
    # skills/people: offered, nobody seeks -> an offer nobody seeks
    ReportRow("skills", "people", "nl", "offer", 5),
    ReportRow("energy", None, None, "match", 2),
    ReportRow("energy", None, None, "introduction", 1),
]


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(
        tmp_path, plugins=["core", "members", "digest"], config={"bot": {"default_language": "en"}}
    )
    bot.clock.now = NOW
    bot.add_member(ANNA)
    bot.make_moderator(MOD)

    async def rows(session, theme):
        return [r for r in ROWS if theme is None or r.theme == theme]

    bot.insights.register_report("exchange", rows)
    yield bot
    await bot.stop()


def test_gaps_on_a_prepared_data_set():
    needs, unsought = Report.of(ROWS).gaps()
    assert needs == [("energy", "capacity")]
    assert unsought == [("skills", "people")]


def test_csv_sums_rows_and_lists_the_gaps():
    rows = list(
        csv.DictReader(io.StringIO(report_csv(Report.of([*ROWS, ReportRow("energy", "knowledge", "de", "seek", 2)]))))
    )
    seek_de = [r for r in rows if r["resource"] == "knowledge" and r["side"] == "de" and r["kind"] == "seek"]
    assert [r["count"] for r in seek_de] == ["5"]
    gaps = {(r["kind"], r["theme"], r["resource"], r["count"]) for r in rows if r["kind"].startswith("gap")}
    assert gaps == {
        ("gap_need_without_offer", "energy", "capacity", "4"),
        ("gap_offer_not_sought", "skills", "people", "5"),
    }
    assert any(r["listed_names"] == "Stadtwerke Meppen" for r in rows)


async def test_report_posts_markdown_csv_and_a_png(bot):
    async with bot.db.transaction() as session:
        session.add(
            Profile(
                user_id=ANNA,
                company="Bakkerij Anna",
                side="nl",
                themes=["energy"],
                consent_version=1,
                listed=True,
                last_active_at=NOW,
            )
        )
        session.add(
            Profile(
                user_id="@hidden:x",
                company="Verborgen",
                side="de",
                themes=["energy"],
                consent_version=1,
                listed=False,
                last_active_at=NOW,
            )
        )
    room = bot.theme_room("energy")
    sent = await bot.say(MOD, "!report", room=room)
    files = sent.of_type("diabot.file")
    assert [f.content["filename"].rsplit(".", 1)[1] for f in files] == ["md", "csv", "png"]
    md, table, png = files
    text = md.content["text"]
    assert "Werkdocument" in text and "Arbeitsdokument" in text  # bilingual
    assert "Vraag zonder aanbod / Bedarf ohne Angebot" in text
    gaps = text.split("Vraag zonder aanbod")[1].split("##")[0]
    assert "energy: capacity (4)" in gaps and "skills: people (5)" in gaps
    assert "Bakkerij Anna" in text and "Verborgen" not in text  # active members: listed ones named
    assert "| energy | 2 | 1 | 2 | Bakkerij Anna |" in text  # matches, introductions, 2 active (one hidden)
    assert "Verborgen" not in table.content["text"]
    data = base64.b64decode(png.content["base64"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and list(image.size) == png.content["image_size"]
    assert image.size[0] >= 800


async def test_report_for_one_theme_and_only_for_moderators(bot):
    sent = await bot.say(MOD, "!rapport skills", room=bot.theme_room("skills"))
    (md,) = [f for f in sent.of_type("diabot.file") if f.content["filename"].endswith(".md")]
    assert "energy" not in md.content["text"] and "skills: people (5)" in md.content["text"]
    refused = await bot.say(ANNA, "!report", room=bot.theme_room("energy"))
    assert not refused.of_type("diabot.file")
    unknown = await bot.say(MOD, "!report nonsense-theme-xyz", room=bot.theme_room("energy"))
    assert not unknown.of_type("diabot.file") and "nonsense-theme-xyz" in unknown.text
