"""`!poll "Question?" "Answer A" "Answer B" max=2 workgroup secret until Friday 17:00`
read into a PollRequest.

Quoted phrases are the question and the answers (straight or typographic
quotes, so apostrophes stay text: "Bakkerij 't Hoekje"); among the words
outside quotes, `max=N`, a word for the working group and a word for a
secret (undisclosed) poll are options, in any language; what is left is the
closing time in natural language (diabot/dates.py), read off the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from diabot.commands import OPEN_QUOTES, next_word
from diabot.dates import understand
from diabot.errors import UsageError
from diabot.sending import POLL_MAX_ANSWER_CHARS, POLL_MAX_ANSWERS

MAX_QUESTION_CHARS = 1000
WORKGROUP_WORDS = frozenset({"workgroup", "werkgroep", "arbeitsgruppe", "wg"})
SECRET_WORDS = frozenset({"secret", "hidden", "undisclosed", "geheim", "verborgen", "verdeckt"})
# Words before the closing time: "until Friday", "tot vrijdag", "bis Freitag", "closes=friday".
_UNTIL = frozenset({"until", "till", "closes", "close", "ends", "tot", "sluit", "eindigt", "bis", "endet", "schluss"})


@dataclass(frozen=True)
class PollRequest:
    question: str
    answers: list[str]
    max_selections: int = 1
    workgroup: bool = False
    disclosed: bool = True
    closing: str = ""  # the closing time as typed; "" = the default duration


def read_request(text: str) -> PollRequest:
    """Raises UsageError with a key of the polls catalog."""
    phrases: list[str] = []
    words: list[str] = []
    max_selections: str | None = None
    workgroup = False
    disclosed = True
    pos = 0
    while True:
        start = pos
        found = next_word(text, pos)
        if found is None:
            break
        word, pos = found
        quoted = text[start:pos].lstrip()[:1] in OPEN_QUOTES
        lowered = word.lower()
        if quoted:
            phrases.append(" ".join(word.split()))
        elif lowered.startswith("max=") or lowered.startswith("max:"):
            max_selections = word[4:]
        elif lowered in WORKGROUP_WORDS:
            workgroup = True
        elif lowered in SECRET_WORDS:
            disclosed = False
        else:
            words.append(word)
    if len(phrases) < 1:
        raise UsageError("polls.error.quotes")
    question, answers = phrases[0], phrases[1:]
    _check_texts(question, answers)
    return PollRequest(
        question=question,
        answers=answers,
        max_selections=_read_max(max_selections, len(answers)),
        workgroup=workgroup,
        disclosed=disclosed,
        closing=_closing_phrase(words),
    )


def _check_texts(question: str, answers: list[str]) -> None:
    if not question:
        raise UsageError("polls.error.quotes")
    if len(question) > MAX_QUESTION_CHARS:
        raise UsageError("polls.error.question_too_long", max=MAX_QUESTION_CHARS)
    if len(answers) < 2:
        raise UsageError("polls.error.too_few_answers")
    if len(answers) > POLL_MAX_ANSWERS:
        raise UsageError("polls.error.too_many_answers", count=len(answers), max=POLL_MAX_ANSWERS)
    for number, answer in enumerate(answers, 1):
        if not answer:
            raise UsageError("polls.error.empty_answer", number=number)
        if len(answer) > POLL_MAX_ANSWER_CHARS:
            raise UsageError("polls.error.answer_too_long", number=number, max=POLL_MAX_ANSWER_CHARS)
    seen: set[str] = set()
    for answer in answers:
        if answer.casefold() in seen:
            raise UsageError("polls.error.duplicate_answer", answer=answer)
        seen.add(answer.casefold())


def _read_max(value: str | None, count: int) -> int:
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= count:
        raise UsageError("polls.error.bad_max", value=value, count=count)
    return int(value)


def _closing_phrase(words: list[str]) -> str:
    if words and words[0].lower().rstrip(":=") in _UNTIL:
        words = words[1:]
    elif words and "=" in words[0] and words[0].split("=", 1)[0].lower() in _UNTIL:
        words = [words[0].split("=", 1)[1], *words[1:]]
    return " ".join(words)


async def closing_time(phrase: str, zone: ZoneInfo, now: datetime, default: timedelta) -> datetime:
    """When the poll closes: the phrase read in the community's zone (a day
    alone closes at the end of that day), or `default` from now."""
    if not phrase:
        return now + default
    when = await asyncio.to_thread(understand, phrase, zone, now)  # dateparser: never on the event loop
    if when is None:
        raise UsageError("polls.error.bad_closing", value=phrase)
    moment = when.at if when.has_time else datetime.combine(when.at.date(), time(23, 59), zone)
    if moment <= now:
        raise UsageError("core.error.date_past", value=phrase, when=moment)
    return moment
