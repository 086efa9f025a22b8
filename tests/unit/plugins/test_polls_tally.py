"""The counting rules of plugins/polls/tally.py (Element's), the forms a
response comes in, and reading the !poll command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from diabot.errors import UsageError
from plugins.polls.export import inert
from plugins.polls.request import closing_time, read_request
from plugins.polls.shapes import typed_numbers
from plugins.polls.tally import Response, answers_of, tally

IDS = ["1", "2", "3"]


def counts(responses, max_selections=1, end_ms=None):
    return tally(responses, IDS, max_selections, end_ms).counts


def test_only_the_latest_response_of_a_voter_counts():
    # Mutation: keeping the first response per voter (or counting all) gives 1: 2 or 1: 1, 2: 1.
    responses = [Response("@a", ["1"], 10), Response("@a", ["2"], 20), Response("@b", ["2"], 15)]
    assert counts(responses) == {"1": 0, "2": 2, "3": 0}
    # The order they are seen in does not matter, their time does.
    assert counts(list(reversed(responses))) == {"1": 0, "2": 2, "3": 0}


def test_a_tie_in_time_keeps_the_one_seen_first():
    assert counts([Response("@a", ["1"], 10), Response("@a", ["2"], 10)]) == {"1": 1, "2": 0, "3": 0}


def test_responses_after_the_end_do_not_count_and_do_not_replace_an_earlier_one():
    # Mutation: `>=` instead of `>` drops a vote cast in the closing millisecond.
    responses = [Response("@a", ["1"], 100), Response("@a", ["2"], 101), Response("@b", ["3"], 100)]
    assert counts(responses, end_ms=100) == {"1": 1, "2": 0, "3": 1}


@pytest.mark.parametrize("spoiled", [["9"], ["1", "9"], [], None, [1], ["1", 2]])
def test_a_spoiled_latest_response_counts_for_nothing(spoiled):
    """Unknown ids, nothing chosen, not strings: as Element, the voter's latest response is
    spoiled and replaces their earlier vote (their earlier vote does not come back)."""
    result = tally([Response("@a", ["1"], 1), Response("@a", spoiled, 2)], IDS, 1, None)
    assert result.counts == {"1": 0, "2": 0, "3": 0}
    assert result.choices == {"@a": ()}  # still someone who voted (they are told the result)
    assert result.valid_voters == 0


def test_more_answers_than_allowed_keeps_the_first_ones_and_repeats_count_once():
    assert counts([Response("@a", ["3", "1", "2"], 1)], max_selections=2) == {"1": 1, "2": 0, "3": 1}
    assert counts([Response("@a", ["2", "2"], 1)], max_selections=2) == {"1": 0, "2": 1, "3": 0}


def test_the_frozen_result_names_nobody():
    frozen = tally([Response("@a", ["1"], 1), Response("@b", ["x"], 1)], IDS, 1, None).to_json()
    assert frozen == {"counts": {"1": 1, "2": 0, "3": 0}, "voters": 2, "valid": 1}
    assert "@a" not in str(frozen)


@pytest.mark.parametrize(
    "content,expected",
    [
        ({"org.matrix.msc3381.poll.response": {"answers": ["1"]}}, ["1"]),  # Element (unstable)
        ({"m.poll.response": {"answers": ["2", "3"]}}, ["2", "3"]),  # its stable rename
        ({"m.selections": ["3"]}, ["3"]),  # the Matrix 1.7 spec shape
        ({"org.matrix.msc3381.poll.response": {"answers": "1"}}, None),
        ({"org.matrix.msc3381.poll.response": {}}, None),
        ({}, None),
    ],
)
def test_answers_are_read_from_every_form_clients_send(content, expected):
    assert answers_of(content) == expected


@pytest.mark.parametrize(
    "body,numbers",
    [("2", [2]), (" 1, 3 ", [1, 3]), ("1 en 3", [1, 3]), ("1 und 2.", [1, 2]), ("#2", [2]), ("1;2", [1, 2])],
)
def test_a_reply_of_numbers_is_a_vote(body, numbers):
    assert typed_numbers(body) == numbers


@pytest.mark.parametrize("body", ["2 please", "I think 2", "", "ok", "2026-12-03", "123"])
def test_other_replies_are_no_vote(body):
    assert typed_numbers(body) is None


def test_the_command_line_quotes_options_and_closing_time():
    request = read_request(
        '“Waar spreken we af?” "Bakkerij \'t Hoekje" „Emmen“ max=2 werkgroep geheim tot vrijdag 17:00'
    )
    assert request.question == "Waar spreken we af?"
    assert request.answers == ["Bakkerij 't Hoekje", "Emmen"]  # an apostrophe is no quote
    assert (request.max_selections, request.workgroup, request.disclosed) == (2, True, False)
    assert request.closing == "vrijdag 17:00"
    assert read_request('"Q" "a" "b" bis Freitag 17 Uhr').closing == "Freitag 17 Uhr"
    assert read_request('"Q" "a" "b"').closing == ""


@pytest.mark.parametrize(
    "line,key",
    [
        ("Lunch? Pizza Sushi", "polls.error.quotes"),
        ('"Lunch?" "Pizza"', "polls.error.too_few_answers"),
        ('"Q" ' + " ".join(f'"a{n}"' for n in range(21)), "polls.error.too_many_answers"),
        ('"Q" "a" "' + "x" * 341 + '"', "polls.error.answer_too_long"),
        ('"Q" "a" ""', "polls.error.empty_answer"),
        ('"Q" "Ja" "ja"', "polls.error.duplicate_answer"),
        ('"Q" "a" "b" max=3', "polls.error.bad_max"),
        ('"Q" "a" "b" max=0', "polls.error.bad_max"),
        ('"Q" "a" "b" max=two', "polls.error.bad_max"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(line, key):
    with pytest.raises(UsageError) as caught:
        read_request(line)
    assert caught.value.key == key


def test_twenty_answers_of_340_characters_are_fine():
    answers = [f"{n:02d}" + "x" * 338 for n in range(20)]
    request = read_request('"Q" ' + " ".join(f'"{a}"' for a in answers))
    assert request.answers == answers


ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


async def test_closing_times_in_three_languages_in_the_community_zone():
    friday_17 = datetime(2026, 11, 27, 17, 0, tzinfo=ZONE)
    for phrase in ("vrijdag 17:00", "Freitag 17 Uhr", "friday 5pm"):
        assert await closing_time(phrase, ZONE, NOW, timedelta(days=7)) == friday_17
    # A day alone closes at its end; no phrase: the default duration.
    assert await closing_time("vrijdag", ZONE, NOW, timedelta(days=7)) == datetime(2026, 11, 27, 23, 59, tzinfo=ZONE)
    assert await closing_time("", ZONE, NOW, timedelta(days=7)) == NOW + timedelta(days=7)


async def test_a_closing_time_that_is_past_or_unreadable_is_refused():
    with pytest.raises(UsageError) as caught:
        await closing_time("gisteren 10:00", ZONE, NOW, timedelta(days=7))
    assert caught.value.key == "core.error.date_past"
    with pytest.raises(UsageError) as caught:
        await closing_time("blabla", ZONE, NOW, timedelta(days=7))
    assert caught.value.key == "polls.error.bad_closing"


@pytest.mark.parametrize("cell,safe", [("=SUM(A1)", "'=SUM(A1)"), ("@anna:x", "'@anna:x"), ("-1", "'-1"), ("Ja", "Ja")])
def test_csv_cells_cannot_become_formulas(cell, safe):
    assert inert(cell) == safe
