"""Reading an event from one line (pure, no bot): Dutch, German and English
dates in the community's zone (also across the switch to winter time), the
markers, and answers that show how a wrong date was understood."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from diabot.errors import UsageError
from plugins.events.config import EventsConfig, offset_seconds
from plugins.events.parsing import parse_line, take_extras

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def test_the_example_line_of_the_issue():
    line = parse_line(
        '"Netwerkborrel Emmen" dinsdag 16:00 @ Raadhuisplein 1, Emmen + https://meet.example/x #energie max 40',
        ZONE,
        NOW,
    )
    assert line.title == "Netwerkborrel Emmen"
    assert line.when.at == datetime(2026, 12, 1, 16, 0, tzinfo=ZONE)
    assert line.when.at.astimezone(UTC) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert (line.place, line.link, line.theme, line.capacity) == (
        "Raadhuisplein 1, Emmen",
        "https://meet.example/x",
        "energie",
        40,
    )
    assert line.ends(timedelta(hours=2)) == datetime(2026, 12, 1, 18, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # Summer time (UTC+2) on Saturday, winter time (UTC+1) from Sunday 31 October 2027 on.
        ('"Borrel" zaterdag 30 oktober 2027 16:00', datetime(2027, 10, 30, 14, 0, tzinfo=UTC)),
        ('"Stammtisch" 1. November 2027 14 Uhr', datetime(2027, 11, 1, 13, 0, tzinfo=UTC)),
        ('"Meeting" 31 October 2027 9am', datetime(2027, 10, 31, 8, 0, tzinfo=UTC)),
        ('"Webinar" 2026-12-03 16:00', datetime(2026, 12, 3, 15, 0, tzinfo=UTC)),
        ("„Treffen“ 3. Dezember 14 Uhr", datetime(2026, 12, 3, 13, 0, tzinfo=UTC)),
        ('"Lunch" volgende dinsdag 12 uur', datetime(2026, 12, 1, 11, 0, tzinfo=UTC)),
    ],
)
def test_dates_land_at_the_right_instant(text, utc):
    assert parse_line(text, ZONE, NOW).when.at.astimezone(UTC) == utc


def test_an_unquoted_title_is_the_words_before_the_date():
    line = parse_line("Workshop AI volgende dinsdag 9am @ Hengelo", ZONE, NOW)
    assert (line.title, line.place) == ("Workshop AI", "Hengelo")


def test_lengths_and_ends():
    assert parse_line('"W" 2026-12-03 16:00-17:30', ZONE, NOW).end_time == time(17, 30)
    assert parse_line('"L" morgen 12:00 tot 13:30 in De Bakkerij', ZONE, NOW).place == "De Bakkerij"
    line = parse_line('"S" 3. Dezember 14 Uhr Dauer 3 Stunden @ Rathaus Meppen #energy', ZONE, NOW)
    assert line.duration == timedelta(hours=3) and line.place == "Rathaus Meppen" and line.theme == "energy"
    with pytest.raises(UsageError) as err:
        take_extras("duur 9 dagen")
    assert err.value.key == "events.error.duration"


def test_a_past_date_says_how_it_was_understood():
    with pytest.raises(UsageError) as err:
        parse_line('"Oud" 2020-01-01 10:00', ZONE, NOW)
    assert err.value.key == "core.error.date_past"
    assert err.value.params["when"] == datetime(2020, 1, 1, 10, 0, tzinfo=ZONE)


def test_a_day_without_time_and_nonsense_are_answered():
    with pytest.raises(UsageError) as err:
        parse_line('"X" morgen', ZONE, NOW)
    assert err.value.key == "core.error.date_without_time" and str(err.value.params["date"]) == "2026-11-26"
    with pytest.raises(UsageError) as err:
        parse_line('"X" blabla', ZONE, NOW)
    assert (err.value.key, err.value.params) == ("events.error.bad_date", {"value": "blabla"})
    with pytest.raises(UsageError) as err:
        parse_line('"X"', ZONE, NOW)
    assert err.value.key == "events.error.no_date"


def test_reminder_offsets():
    assert offset_seconds("1d") == 86400 and offset_seconds("1h30m") == 5400 and offset_seconds("45s") == 45
    for bad in ("", "1x", "h", "1 day"):
        with pytest.raises(ValueError):
            offset_seconds(bad)
    config = EventsConfig.model_validate({"reminders": ["1h", "1d", "60m"]})
    assert config.reminder_offsets() == [timedelta(days=1), timedelta(hours=1)]
    with pytest.raises(ValueError):
        EventsConfig.model_validate({"holiday_regions": ["XX-YY"]})
