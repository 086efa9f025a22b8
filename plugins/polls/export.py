"""A poll's result as CSV, for the working group's records: one row per
answer with its votes, and — only for a disclosed poll, whose votes every
member of the room could see anyway — who chose it.

Cells are made inert for spreadsheets: a cell that starts with = + - @ or a
tab would be read as a formula by Excel and LibreOffice (CSV injection), so
it gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from diabot.storage.models import aware

from .models import Poll
from .store import answer_ids
from .tally import Tally

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: object) -> str:
    text = str(cell)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def poll_csv(poll: Poll, outcome: Tally, counts: dict[str, int], name_of: Callable[[str], str]) -> str:
    """`counts`: the frozen result of a closed poll, or the current tally's;
    `name_of`: a voter's display name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["poll", "question", "closes_at", "closed", "number", "answer", "votes"]
    if poll.disclosed:
        header.append("voters")
    writer.writerow(header)
    closes_at = aware(poll.closes_at)
    assert closes_at is not None
    for n, answer_id in enumerate(answer_ids(poll), 1):
        row: list[object] = [poll.id, poll.question, closes_at.isoformat(), poll.closed_at is not None, n]
        row.append(poll.answers[n - 1])
        row.append(counts.get(answer_id, 0))
        if poll.disclosed:
            chose = sorted(voter for voter, chosen in outcome.choices.items() if answer_id in chosen)
            row.append("; ".join(f"{name_of(voter)} ({voter})" for voter in chose))
        writer.writerow([inert(cell) for cell in row])
    return out.getvalue()
