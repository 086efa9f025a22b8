"""Dates and times as members type them, with a fixed `now`: Wednesday
25 November 2026, 20:00 in Amsterdam."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from diabot.dates import WHEN, parse_when, parse_when_arg, split_when, understand
from diabot.errors import UsageError

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)  # Wed 20:00 in Amsterdam


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(
    "text,expected",
    [
        # Dutch
        ("volgende dinsdag 16:00", at(12, 1, 16)),
        ("dinsdag 16:00", at(12, 1, 16)),
        ("dinsdag om 16:00", at(12, 1, 16)),
        ("morgen 10 uur", at(11, 26, 10)),
        ("morgen om 10 uur", at(11, 26, 10)),
        ("vrijdag 9u", at(11, 27, 9)),
        ("vrijdag 16u30", at(11, 27, 16, 30)),
        ("donderdag 19.30", at(11, 26, 19, 30)),
        ("3 december om 16 uur", at(12, 3, 16)),
        ("8 uur 's avonds", at(11, 26, 20)),
        ("vandaag 21:00", at(11, 25, 21)),
        ("over 3 dagen 10:00", at(11, 28, 10)),
        ("in 2 uur", at(11, 25, 22)),  # a duration, not 2 o'clock
        ("10 januari 9:15", at(1, 10, 9, 15, year=2027)),  # the next 10 January
        # German
        ("3. Dezember 14 Uhr", at(12, 3, 14)),
        ("nächsten Dienstag 16:00", at(12, 1, 16)),
        ("am Dienstag um 16 Uhr", at(12, 1, 16)),
        ("übermorgen 9 Uhr", at(11, 27, 9)),
        ("Donnerstag 19.30 Uhr", at(11, 26, 19, 30)),
        ("3.12. 16:00", at(12, 3, 16)),  # not 03:12
        ("Montag, 7. Dezember 2026 18:30", at(12, 7, 18, 30)),
        ("heute 21 Uhr", at(11, 25, 21)),
        # English
        ("next friday 9am", at(11, 27, 9)),
        ("tomorrow 10am", at(11, 26, 10)),
        ("tuesday at 4pm", at(12, 1, 16)),
        ("friday 4 pm", at(11, 27, 16)),
        # Numeric
        ("2026-12-03 16:00", at(12, 3, 16)),
        ("2026-12-03T16:00", at(12, 3, 16)),
        ("12/3 16:00", at(3, 12, 16, year=2027)),  # day first, as in nl and de
        ("16:00", at(11, 26, 16)),  # today's 16:00 has passed: tomorrow
        ("21:30", at(11, 25, 21, 30)),  # still today
    ],
)
def test_phrasings(text, expected):
    when = parse_when(text, AMS, NOW)
    assert when == expected, text
    assert when.utcoffset() == expected.utcoffset()


def test_summer_time_is_the_zones():
    assert parse_when("2027-07-01 16:00", AMS, NOW).utcoffset().total_seconds() == 7200


@pytest.mark.parametrize(
    "text", ["", "   ", "blah", "foo bar", "Kerstborrel", "30 februari 10:00", "thema's", "'t Hoekje"]
)
def test_not_a_date(text):
    assert understand(text, AMS, NOW) is None
    assert parse_when(text, AMS, NOW) is None


@pytest.mark.parametrize("text,day", [("morgen", date(2026, 11, 26)), ("3 december", date(2026, 12, 3))])
def test_a_day_without_time(text, day):
    when = understand(text, AMS, NOW)
    assert when is not None and not when.has_time and when.at.date() == day
    assert parse_when(text, AMS, NOW) is None


@pytest.mark.parametrize(
    "text,expected,rest",
    [
        ("dinsdag 16:00 @ Bakkerij 't Hoekje", at(12, 1, 16), "@ Bakkerij 't Hoekje"),
        ("3. Dezember 14 Uhr im Rathaus", at(12, 3, 14), "im Rathaus"),
        ("morgen om 10 uur bij mij thuis", at(11, 26, 10), "bij mij thuis"),
        ("next friday 9am", at(11, 27, 9), ""),
    ],
)
def test_split_when_takes_the_phrase_at_the_start(text, expected, rest):
    found = split_when(text, AMS, NOW)
    assert found is not None and found[0].at == expected and found[1] == rest


def test_split_when_without_a_date():
    assert split_when("Kerstborrel bij Jan", AMS, NOW) is None


def test_the_argument_type_explains_what_it_understood():
    assert parse_when_arg("dinsdag 16:00", AMS, NOW) == at(12, 1, 16)
    with pytest.raises(UsageError) as err:
        parse_when_arg("ooit", AMS, NOW)
    assert err.value.key == "core.error.bad_date" and err.value.params == {"value": "ooit"}
    with pytest.raises(UsageError) as err:
        parse_when_arg("morgen", AMS, NOW)
    assert err.value.key == "core.error.date_without_time" and err.value.params["date"] == date(2026, 11, 26)
    with pytest.raises(UsageError) as err:
        parse_when_arg("2026-11-20 10:00", AMS, NOW)
    assert err.value.key == "core.error.date_past" and err.value.params["when"] == at(11, 20, 10)
    assert WHEN.parse is parse_when_arg
