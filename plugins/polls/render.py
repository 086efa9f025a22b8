"""The texts of a poll: the announcement beside the native poll (for clients
that cannot show one), the result, and the end event's one-line fallback."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from diabot.formatting import Markdown, escape_md
from diabot.sending import Sender
from diabot.storage.models import aware

from .models import Poll
from .store import answer_ids
from .tally import Tally


def numbered(answers: list[str]) -> Markdown:
    return Markdown("\n".join(f"{n}. {escape_md(answer)}" for n, answer in enumerate(answers, 1)))


def closes(sender: Sender, poll: Poll, zone: ZoneInfo) -> str:
    closes_at = aware(poll.closes_at)
    assert closes_at is not None
    return sender.services.i18n.datetime(sender.lang, closes_at, tz=zone)


def announcement(sender: Sender, poll: Poll, zone: ZoneInfo) -> Markdown:
    """Posted with the poll: its number, when it closes, the answers and how to vote by replying."""
    parts = [
        sender.t("polls.announce", id=poll.id, question=poll.question, closes=closes(sender, poll, zone)),
        numbered(poll.answers),
        sender.t("polls.announce.reply", count=poll.max_selections, id=poll.id)
        if poll.max_selections > 1
        else sender.t("polls.announce.reply_one", id=poll.id),
    ]
    if poll.role is not None:
        parts.append(sender.t("polls.announce.workgroup"))
    if not poll.disclosed:
        parts.append(sender.t("polls.announce.secret"))
    return Markdown("\n\n".join(parts))


def top_answers(poll: Poll, result: Tally | dict) -> list[str]:
    counts = _counts(result)
    best = max(counts.values(), default=0)
    return [poll.answers[int(i) - 1] for i, n in counts.items() if n == best and best > 0]


def _counts(result: Tally | dict) -> dict[str, int]:
    return result.counts if isinstance(result, Tally) else dict(result.get("counts", {}))


def _voters(result: Tally | dict) -> tuple[int, int]:
    """Those whose vote counts, and those whose latest response was spoiled."""
    if isinstance(result, Tally):
        return result.valid_voters, len(result.choices) - result.valid_voters
    voters, valid = int(result.get("voters", 0)), int(result.get("valid", 0))
    return valid, voters - valid


def standings(sender: Sender, poll: Poll, result: Tally | dict) -> Markdown:
    """One line per answer with its votes and share; the leading answer(s) in bold."""
    counts = _counts(result)
    best = max(counts.values(), default=0)
    total = sum(counts.values())
    lines = []
    for n, answer_id in enumerate(answer_ids(poll), 1):
        votes = counts.get(answer_id, 0)
        line = sender.t(
            "polls.result.line",
            answer=poll.answers[n - 1],
            votes=sender.t("polls.votes", count=votes),
            share=round(100 * votes / total) if total else 0,
        )
        lines.append(f"{n}. **{line}**" if best and votes == best else f"{n}. {line}")
    return Markdown("\n".join(lines))


def result(sender: Sender, poll: Poll, outcome: Tally | dict, *, final: bool) -> Markdown:
    key = "polls.result.final" if final else "polls.result.current"
    head = sender.t(key, id=poll.id, question=poll.question)
    valid, spoiled = _voters(outcome)
    voters = sender.t("polls.result.voters", count=valid)
    if spoiled:
        voters = Markdown(f"{voters} {sender.t('polls.result.spoiled', count=spoiled)}")
    return Markdown(f"{head}\n\n{standings(sender, poll, outcome)}\n\n{voters}")


def end_text(sender: Sender, poll: Poll, outcome: Tally | dict) -> str:
    """Plain text (an event's fallback body, never rendered as markdown)."""
    winners = top_answers(poll, outcome)
    if not winners:
        return sender.t("polls.end.none")
    best = max(_counts(outcome).values())
    return sender.t("polls.end.top", count=best, answers=Markdown(", ".join(winners)))
