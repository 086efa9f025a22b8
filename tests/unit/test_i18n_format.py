"""Dates, times, numbers and plurals in the reader's language (Babel)."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from diabot.i18n import Catalog

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Tuesday 1 December 2026, 15:00 UTC = 16:00 in Amsterdam and Berlin.
WHEN = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(timezone="Europe/Amsterdam")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", "dinsdag 1 december 2026 om 16:00"),
        ("de", "Dienstag, 1. Dezember 2026 um 16:00"),
        ("en", "Tuesday, 1 December 2026 at 16:00"),
    ],
)
def test_datetime_in_the_readers_language_and_the_communitys_zone(catalog, lang, expected):
    assert catalog.datetime(lang, WHEN) == expected


def test_date_and_time_parts(catalog):
    assert catalog.date("nl", WHEN) == "dinsdag 1 december 2026"
    assert catalog.date("de", WHEN) == "Dienstag, 1. Dezember 2026"
    assert catalog.date("en", WHEN) == "Tuesday, 1 December 2026"
    assert catalog.date("de", WHEN, width="medium") == "01.12.2026"
    assert catalog.date("nl", dt.date(2026, 12, 1), width="long") == "1 december 2026"
    assert [catalog.time(lang, WHEN) for lang in ("nl", "de", "en")] == ["16:00"] * 3
    assert catalog.time("en", dt.time(9, 5)) == "09:05"


def test_the_zone_decides_the_day(catalog):
    late = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)  # 00:30 on 2 December in Amsterdam
    assert catalog.datetime("nl", late) == "woensdag 2 december 2026 om 00:30"
    assert catalog.date("en", late, tz=dt.UTC) == "Tuesday, 1 December 2026"
    assert catalog.time("en", late, tz=ZoneInfo("America/New_York")) == "18:30"
    # Summer time: the offset follows the date, not today's.
    assert catalog.time("de", dt.datetime(2026, 7, 1, 15, 0, tzinfo=dt.UTC)) == "17:00"


def test_without_a_community_zone_the_datetime_keeps_its_own():
    berlin = WHEN.astimezone(ZoneInfo("Europe/Berlin"))
    assert Catalog().time("de", berlin) == "16:00"
    assert Catalog().time("de", WHEN) == "15:00"


def test_a_naive_datetime_is_refused(catalog):
    with pytest.raises(ValueError, match="aware"):
        catalog.datetime("nl", dt.datetime(2026, 12, 1, 16, 0))


def test_numbers():
    catalog = Catalog()
    assert catalog.number("nl", 1234567.5) == "1.234.567,5"
    assert catalog.number("de", 1234567.5) == "1.234.567,5"
    assert catalog.number("en", 1234567.5) == "1,234,567.5"
    assert catalog.number("nl", 3.14159, digits=2) == "3,14"
    assert catalog.number("en", 2.5, digits=0) == "2"  # Babel rounds half to even
    assert catalog.number("de", 1000) == "1.000"


PLURALS = Catalog(
    {
        "nl": {"members": {"one": "{count} lid", "other": "{count} leden"}, "plain": "{count} keer"},
        "de": {"members": {"one": "ein Mitglied", "other": "{count} Mitglieder"}, "plain": "{count}-mal"},
        "en": {"members": {"one": "{count} member", "other": "{count} members"}, "plain": "{count} times"},
    }
)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["0 leden", "1 lid", "2 leden", "1.5 leden", "21 leden"]),
        ("de", ["0 Mitglieder", "ein Mitglied", "2 Mitglieder", "1.5 Mitglieder", "21 Mitglieder"]),
        ("en", ["0 members", "1 member", "2 members", "1.5 members", "21 members"]),
    ],
)
def test_plural_forms_follow_the_languages_rule(lang, expected):
    assert [PLURALS.t(lang, "members", count=n) for n in (0, 1, 2, 1.5, 21)] == expected


def test_plain_texts_with_count_keep_working():
    assert PLURALS.t("de", "plain", count=1) == "1-mal"
    assert PLURALS.t("nl", "plain", count=3) == "3 keer"


def test_plural_without_count_takes_other_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="diabot.i18n"):
        assert PLURALS.t("en", "members") == "{count} members"
    assert "plural text without a count" in caplog.text


def test_a_missing_form_falls_back_to_other():
    catalog = Catalog({"nl": {"k": {"other": "{count} dingen"}}, "de": {}, "en": {}})
    assert catalog.t("nl", "k", count=1) == "1 dingen"


def test_lang_and_key_can_be_placeholder_names():
    catalog = Catalog({"nl": {}, "de": {}, "en": {"k": "{lang} / {key}"}})
    assert catalog.t("en", "k", lang="Dutch", key="k2") == "Dutch / k2"
