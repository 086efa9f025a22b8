"""Counting a poll the way Element shows it (matrix-react-sdk `collectUserVotes`
and `countVotes`, matrix-events-sdk `PollResponseEvent.validateAgainst`):

- a response after the end does not count;
- per voter only the latest response counts (a later one replaces an earlier
  one, also when the later one is spoiled);
- a response is spoiled — it counts for nothing — when its answers are not a
  non-empty list of strings or name an id the poll does not have;
- a voter who picks more answers than allowed gets the first `max_selections`.

Element counts a repeated id twice (["1", "1"]); here a selection is a set.
Who may vote at all is decided before a response is stored (see polls.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    voter: str
    answers: Sequence[str] | None  # as sent; None: no readable answers
    ts: int  # origin_server_ts, ms
    event_id: str = ""


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]  # answer id -> votes, every id of the poll (0 too), in the poll's order
    choices: dict[str, tuple[str, ...]]  # voter -> what counted for them (empty: spoiled)

    @property
    def voters(self) -> list[str]:
        """Everyone whose latest response before the end counts, spoiled or not (sorted)."""
        return sorted(self.choices)

    @property
    def valid_voters(self) -> int:
        return sum(1 for chosen in self.choices.values() if chosen)

    def to_json(self) -> dict[str, Any]:
        """What is frozen in Poll.result at the close (no user ids)."""
        return {"counts": self.counts, "voters": len(self.choices), "valid": self.valid_voters}


def read_selection(answers: Sequence[str] | None, answer_ids: Sequence[str], max_selections: int) -> tuple[str, ...]:
    """What a response selects; empty if it is spoiled."""
    if not answers or not all(isinstance(a, str) for a in answers):
        return ()
    if any(a not in answer_ids for a in answers):
        return ()
    return tuple(dict.fromkeys(answers))[:max_selections]


def latest_per_voter(responses: Iterable[Response], end_ms: int | None) -> dict[str, Response]:
    """Each voter's latest response at or before `end_ms` (None: no end yet).
    A tie in time keeps the one seen first, as Element does."""
    latest: dict[str, Response] = {}
    for response in responses:
        if end_ms is not None and response.ts > end_ms:
            continue
        before = latest.get(response.voter)
        if before is None or before.ts < response.ts:
            latest[response.voter] = response
    return latest


def tally(responses: Iterable[Response], answer_ids: Sequence[str], max_selections: int, end_ms: int | None) -> Tally:
    counts = dict.fromkeys(answer_ids, 0)
    choices: dict[str, tuple[str, ...]] = {}
    for voter, response in latest_per_voter(responses, end_ms).items():
        chosen = read_selection(response.answers, answer_ids, max_selections)
        choices[voter] = chosen
        for answer_id in chosen:
            counts[answer_id] += 1
    return Tally(counts, choices)


def answers_of(content: dict[str, Any]) -> list[str] | None:
    """The answer ids of a response's content, in any of the forms clients
    send: unstable MSC3381 (Element), its stable rename, and the Matrix 1.7
    `m.selections`. None when there are none (the response is spoiled)."""
    for key in ("org.matrix.msc3381.poll.response", "m.poll.response"):
        block = content.get(key)
        if isinstance(block, dict) and "answers" in block:
            found = block["answers"]
            return list(found) if isinstance(found, list) else None
    selections = content.get("m.selections")
    return list(selections) if isinstance(selections, list) else None
