"""The polls plugin through the test harness: the native poll it sends, votes
as clients count them (native in both forms, replies with numbers), the close
that happens once (also after downtime), the rebuild from /relations, the
CSV export and GDPR."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from diabot.errors import TransientError
from diabot.events import RoomEvent
from diabot.privacy import ErasureReason
from diabot.sending import POLL_START, UnitOfWork, poll_content
from diabot.storage.models import aware
from diabot.testing import TestBot
from plugins.polls.models import Poll, PollResponse
from plugins.polls.shapes import POLL_END

ANNA, BERND, CAROL, DIRK, MOD = "@anna:x", "@bernd:x", "@carol:x", "@dirk:x", "@mod:x"
ROOM = "!poll:test"
_ids = itertools.count(1)


@pytest.fixture
async def bot(tmp_path):
    bot = await TestBot.start(
        tmp_path,
        plugins=["core", "polls"],
        config={"bot": {"default_language": "en"}, "roles": {"workgroup": {"users": [ANNA, BERND]}}},
    )
    bot.rooms.add_room(ROOM, members=[ANNA, BERND, CAROL, DIRK])
    for user in (ANNA, BERND, CAROL, DIRK):
        bot.add_member(user, ROOM)
    bot.make_moderator(MOD)
    # A fixed hour: "until tomorrow 12:00" must not depend on when the suite runs (23:xx UTC is tomorrow in Amsterdam).
    bot.clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    yield bot
    await bot.stop()


async def start_poll(bot: TestBot, line: str, sender: str = ANNA) -> tuple[str, str]:
    """The poll's start event id and its announcement's."""
    sent = await bot.say(sender, f"!poll {line}", room=ROOM)
    (start,) = sent.of_type(POLL_START)
    (text,) = sent.of_type("m.room.message")
    return start.event_id, text.event_id


async def respond(
    bot: TestBot, voter: str, poll: str, answers: list, *, form: str = "org.matrix.msc3381.poll.response", **kw
):
    """A native response, as Element sends it (or in another form); the homeserver lists it under /relations."""
    bot.clock.advance(timedelta(seconds=1))  # each response later than the one before
    content: dict = {"m.relates_to": {"rel_type": "m.reference", "event_id": poll}}
    if form == "m.selections":
        event_type, content["m.selections"] = "m.poll.response", answers
    else:
        event_type, content[form] = form, {"answers": answers}
    event = RoomEvent(f"$vote{next(_ids)}", kw.get("room", ROOM), voter, kw.get("ts") or bot._ts(), event_type, content)
    bot.rooms.add_relation(event)
    return await bot.send_event(event)


async def stored(bot: TestBot) -> int:
    async with bot.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(PollResponse)) or 0


def result_message(sent):
    (message,) = [s for s in sent.of_type("m.room.message") if s.content.get("msgtype") == "m.text"]
    return message


async def test_the_poll_start_event_has_the_shape_element_reads(bot):
    await start_poll(bot, '"Lunch?" "Pizza" "Sushi" "Salad" max=2 secret')
    (start,) = bot.sent(event_type=POLL_START)
    # Field by field as in facts.md (the MSC3381 unstable shape; the 1.7 `m.poll` shape makes Element show nothing).
    assert start.content == {
        "org.matrix.msc1767.text": "Lunch?\n1. Pizza\n2. Sushi\n3. Salad",
        "org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.undisclosed",
            "max_selections": 2,
            "question": {"org.matrix.msc1767.text": "Lunch?", "body": "Lunch?", "msgtype": "m.text"},
            "answers": [
                {"id": "1", "org.matrix.msc1767.text": "Pizza"},
                {"id": "2", "org.matrix.msc1767.text": "Sushi"},
                {"id": "3", "org.matrix.msc1767.text": "Salad"},
            ],
        },
        "m.mentions": {},
    }
    assert poll_content("Q", ["a", "b"])["org.matrix.msc3381.poll.start"]["kind"] == "org.matrix.msc3381.poll.disclosed"
    # Beside it, for clients without polls: the number, the answers, how to vote by replying.
    (text,) = bot.sent(event_type="m.room.message")
    assert text.content["msgtype"] == "m.notice"
    assert "Poll 1:" in text.body and "1. Pizza\n2. Sushi\n3. Salad" in text.body and "up to 2 numbers" in text.body
    assert "shown when the poll closes" in text.body


async def test_the_closing_time_is_stored_as_the_instant_typed(bot):
    """17:00 in Amsterdam is 16:00 UTC in winter; SQLite drops a zone, so it is stored in UTC."""
    bot.clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
    await start_poll(bot, '"Q" "a" "b" until Friday 17:00')
    async with bot.db.sessions() as session:
        poll = await session.get(Poll, 1)
    assert aware(poll.closes_at) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert "Friday, 27 November 2026 at 17:00" in bot.sent(event_type="m.room.message")[0].body


async def test_bad_input_is_answered_in_the_users_language(bot):
    german = await bot.say(BERND, '!umfrage "Wo?" "Emmen"', room=ROOM)
    assert german.text == "Eine Umfrage braucht mindestens 2 Antworten, jede in doppelten Anführungszeichen."
    dutch = await bot.say(BERND, '!peiling "Waar?" "Emmen" "Meppen" tot gisteren 10:00', room=ROOM)
    assert "al voorbij" in dutch.text
    assert bot.sent(event_type=POLL_START) == []
    usage = await bot.say(BERND, "!poll", room=ROOM)
    assert '!poll "Where do we meet?"' in usage.text and "in 7 days" in usage.text


async def test_votes_are_counted_as_element_shows_them(bot):
    """Latest response wins, after the end ignored, unknown id spoils, stable and unstable forms,
    replies with numbers to the poll or its announcement."""
    start, text = await start_poll(bot, '"Lunch?" "Pizza" "Sushi" "Salad" until tomorrow 12:00')
    await respond(bot, ANNA, start, ["1"])
    await respond(bot, ANNA, start, ["2"], form="m.poll.response")  # anna changes her mind (stable form)
    await respond(bot, BERND, start, ["3"], form="m.selections")
    await respond(bot, DIRK, start, ["2"])
    await respond(bot, DIRK, start, ["7"])  # dirk's latest names an unknown answer: spoiled
    replied = await bot.say(CAROL, "3", room=ROOM, reply_to=text)  # carol's app shows no polls
    assert [(s.type, s.content["m.relates_to"]["key"]) for s in replied] == [("m.reaction", "✅")]
    bad = await bot.say(CAROL, "4", room=ROOM, reply_to=text)
    assert bad.text == "Reply with one number from 1 to 3."
    too_many = await bot.say(CAROL, "1, 2", room=ROOM, reply_to=text)
    assert too_many.text == "Reply with one number from 1 to 3."
    chatter = await bot.say(CAROL, "3 is best", room=ROOM, reply_to=text)  # not a vote, not answered
    assert chatter == []
    results = await bot.say(BERND, "!poll results", room=ROOM)
    assert "1. Pizza — 0 votes (0%)\n2. Sushi — 1 vote (33%)\n" in results.text  # anna's 1 replaced, dirk's 2 spoiled
    assert (
        "3. **Salad — 2 votes (67%)**" in results.text
        and "3 people voted. 1 vote named no answer of this poll and does not count." in results.text
    )
    # After the end: ignored, also for someone who voted before.
    closed = await bot.run_jobs(advance=timedelta(days=2))
    await respond(bot, BERND, start, ["1"])
    late = await bot.say(ANNA, "1", room=ROOM, reply_to=start)
    assert late.text == "Poll 1 has closed; your answer came too late to count."
    after = await bot.say(BERND, "!poll results 1", room=ROOM)
    assert result_message(closed).body == after.text  # the frozen result
    assert "3. **Salad — 2 votes (67%)**" in after.text


async def test_a_response_to_the_poll_from_another_room_does_not_count(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b"')
    other = bot.rooms.add_room("!other:test", members=[CAROL])
    await respond(bot, CAROL, start, ["1"], room=other)
    assert await stored(bot) == 0


async def test_in_a_working_group_poll_others_cannot_vote(bot):
    start, text = await start_poll(bot, '"Budget?" "Ja" "Nee" workgroup')
    await respond(bot, ANNA, start, ["1"])
    refused = await respond(bot, CAROL, start, ["2"])  # carol is not in the working group
    # Her vote is taken back, so Element's own count matches the result.
    assert [(s.type, s.redacts) for s in refused] == [("m.room.redaction", refused[0].redacts)]
    assert refused[0].redacts.startswith("$vote")
    told = await bot.say(DIRK, "2", room=ROOM, reply_to=text)
    assert told.text == "Only members of the working group vote in poll 1; your answer was not counted."
    assert await stored(bot) == 1
    closed = await bot.run_jobs(advance=timedelta(days=8))
    assert "1. **Ja — 1 vote (100%)**" in result_message(closed).body
    # And only its members can start one.
    started = await bot.say(CAROL, '!poll "Q" "a" "b" workgroup', room=ROOM)
    assert started.text == "Only members of the working group can start a working-group poll."


async def test_the_close_sends_the_end_and_rings_the_voters_once(bot):
    start, _ = await start_poll(bot, '"Lunch?" "Pizza" "Sushi" until tomorrow 12:00')
    await respond(bot, ANNA, start, ["1"])
    await respond(bot, BERND, start, ["1"])
    assert await bot.run_jobs(advance=timedelta(hours=1)) == []  # not yet
    closed = await bot.run_jobs(advance=timedelta(days=1))
    (end,) = closed.of_type(POLL_END)
    assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": start}
    assert end.content["org.matrix.msc3381.poll.end"] == {}
    assert end.content["body"] == "The poll has ended. Top answer: Pizza (2 votes)"
    result = result_message(closed)  # m.text, never a notice: push rules silence notices
    assert result.content["m.mentions"] == {"user_ids": [ANNA, BERND]}
    assert result.reply_to == start
    assert "Poll 1 has closed" in result.body and "2 people voted." in result.body
    # Once: no second close by a job, a restart or a command.
    assert await bot.run_jobs(advance=timedelta(days=1)) == []
    bot.scheduler.jobs.clear()  # a new process: jobs come from the table
    await bot.plugin("polls").start()
    assert await bot.run_jobs() == []
    again = await bot.say(ANNA, "!poll close 1", room=ROOM)
    assert again.text == "Poll 1 is already closed."


async def test_a_close_that_fell_due_during_downtime_runs_once_after_the_restart(bot):
    await start_poll(bot, '"Q" "a" "b" until tomorrow 12:00')
    bot.scheduler.jobs.clear()  # the bot stops
    bot.clock.advance(timedelta(days=30))  # far beyond the scheduler's grace period
    polls = bot.plugin("polls")
    await polls.start()  # the restart: jobs from the table
    await polls.start()  # (twice: still one job)
    closed = await bot.run_jobs()
    assert len(closed.of_type(POLL_END)) == 1 and len(closed.of_type("m.room.message")) == 1
    bot.scheduler.jobs.clear()
    await polls.start()
    assert bot.scheduler.jobs == {}


async def test_two_closes_at_once_close_once(bot):
    """The job and `!poll close` at the same moment: the conditional UPDATE lets one win (on SQLite the
    other may also fail to get the lock: its job tries again a minute later and finds the poll closed)."""
    await start_poll(bot, '"Q" "a" "b"')
    polls = bot.plugin("polls")
    await asyncio.gather(polls._close_job(1), polls._close_job(1), polls._close_job(1))
    await bot.run_jobs(advance=timedelta(minutes=2))
    assert len(bot.sent(event_type=POLL_END)) == 1


async def test_closing_early_is_for_the_creator_and_moderators(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b"')
    await respond(bot, BERND, start, ["2"])
    refused = await bot.say(BERND, "!poll close", room=ROOM)
    assert refused.text == "Only the one who started poll 1 or a moderator can close it."
    closed = await bot.say(MOD, "!poll close 1", room=bot.open_chat(MOD))
    assert closed.in_room(ROOM).of_type(POLL_END)
    assert closed.text.endswith("Poll 1 is closed; the result is in its room.")
    # Responses after the early close do not count.
    await respond(bot, ANNA, start, ["1"])
    async with bot.db.sessions() as session:
        poll = await session.get(Poll, 1)
    assert poll.result == {"counts": {"1": 0, "2": 1}, "voters": 1, "valid": 1}
    assert await bot.run_jobs(advance=timedelta(days=8)) == []  # the scheduled close does nothing


async def test_a_restart_or_missed_responses_are_rebuilt_from_relations(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b" "c"')
    for voter, answer in ((ANNA, "1"), (BERND, "2"), (CAROL, "2")):
        await respond(bot, voter, start, [answer])
    async with bot.db.transaction() as session:  # the database lacks them (e.g. a long downtime)
        await session.execute(delete(PollResponse))
    results = await bot.say(DIRK, "!poll results", room=ROOM)
    assert "2. **b — 2 votes (67%)**" in results.text and "3 people voted." in results.text
    assert await stored(bot) == 3
    # The homeserver failing at the close: the database's tally stands, the poll still closes.
    bot.rooms.fail("fetch_relations", TransientError("502"))
    closed = await bot.run_jobs(advance=timedelta(days=8))
    assert "3 people voted." in result_message(closed).body


async def test_the_close_counts_what_only_relations_still_has(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b"')
    await respond(bot, ANNA, start, ["1"])
    await respond(bot, BERND, start, ["1"])
    async with bot.db.transaction() as session:
        await session.execute(delete(PollResponse).where(PollResponse.voter == ANNA))
    closed = await bot.run_jobs(advance=timedelta(days=8))
    assert "1. **a — 2 votes (100%)**" in result_message(closed).body
    assert result_message(closed).content["m.mentions"] == {"user_ids": [ANNA, BERND]}


async def test_a_redacted_response_no_longer_counts(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b"')
    await respond(bot, ANNA, start, ["1"])
    await respond(bot, ANNA, start, ["2"])
    vote = bot.rooms.relations[start][-1]
    await bot.redact(ANNA, vote.event_id, ROOM)
    bot.rooms.relations[start].pop()  # the homeserver drops it from /relations too
    closed = await bot.run_jobs(advance=timedelta(days=8))
    assert "1. **a — 1 vote (100%)**" in result_message(closed).body  # her earlier vote stands again


async def test_the_export_is_a_csv_naming_voters_only_when_disclosed(bot):
    start, _ = await start_poll(bot, '"Welke datum?" "=1+1" "3 dec" max=2')
    await respond(bot, ANNA, start, ["1", "2"])
    await respond(bot, BERND, start, ["2"])
    bot.rooms.add_member(ROOM, BERND, display_name="Bernd B.")
    refused = await bot.say(CAROL, "!poll export", room=ROOM)
    assert refused.text == "The export is for the working group and the one who started the poll."
    sent = await bot.say(BERND, "!poll export 1", room=ROOM)
    (file,) = sent.of_type("diabot.file")
    assert (file.content["filename"], file.content["mimetype"]) == ("poll-1.csv", "text/csv")
    rows = list(csv.reader(io.StringIO(file.content["text"])))
    assert rows[0] == ["poll", "question", "closes_at", "closed", "number", "answer", "votes", "voters"]
    assert rows[1][4:] == ["1", "'=1+1", "1", "anna (@anna:x)"]  # a formula is made inert
    assert rows[2][4:] == ["2", "3 dec", "2", "anna (@anna:x); Bernd B. (@bernd:x)"]
    # A secret poll: not before it closes, and then only the counts.
    start2, _ = await start_poll(bot, '"Q" "a" "b" secret')
    await respond(bot, ANNA, start2, ["2"])
    early = await bot.say(ANNA, "!poll export 2", room=ROOM)
    assert early.text == "Poll 2 is secret until it closes; export it after that."
    await bot.say(ANNA, "!poll close 2", room=ROOM)
    (secret_file,) = (await bot.say(ANNA, "!poll export 2", room=ROOM)).of_type("diabot.file")
    secret_rows = list(csv.reader(io.StringIO(secret_file.content["text"])))
    assert secret_rows[0][-1] == "votes" and secret_rows[2][4:] == ["2", "b", "1"]


async def test_results_are_not_shown_in_another_shared_room(bot):
    await start_poll(bot, '"Q" "a" "b"')
    elsewhere = bot.rooms.add_room("!elsewhere:test", members=[ANNA, CAROL, "@x:y"])
    refused = await bot.say(ANNA, "!poll results 1", room=elsewhere)
    assert refused.text == "Ask about poll 1 in its own room, or in your private chat with me."
    secret = await start_poll(bot, '"Q" "a" "b" secret')
    await respond(bot, ANNA, secret[0], ["1"])
    hidden = await bot.say(ANNA, "!poll results", room=ROOM)
    assert "secret until it closes" in hidden.text and "So far 1 person has voted." in hidden.text


async def test_forgetting_a_voter_removes_their_votes_for_good(bot):
    start, _ = await start_poll(bot, '"Q" "a" "b"', sender=BERND)
    before = int(datetime.now(UTC).timestamp() * 1000) - 60_000  # well before the erasure (a real clock)
    await respond(bot, ANNA, start, ["1"], ts=before)
    await respond(bot, BERND, start, ["2"], ts=before)
    async with bot.db.sessions() as session:
        exported = await bot.services.privacy.export(session, BERND)
    assert exported["polls"]["votes"][0]["answers"] == ["b"]
    assert exported["polls"]["polls_started"][0]["question"] == "Q"
    async with UnitOfWork(bot.services) as uow:
        await bot.services.privacy.erase(uow, BERND, ErasureReason.REQUEST)
    async with bot.db.sessions() as session:
        assert await bot.services.privacy.export(session, BERND) == {"user_id": BERND}
        assert (await session.get(Poll, 1)).creator is None
    # A rebuild from /relations does not bring his earlier vote back.
    closed = await bot.run_jobs(advance=timedelta(days=8))
    assert "1 person voted." in result_message(closed).body
