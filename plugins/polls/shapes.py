"""The Matrix side of a poll that diabot/sending.py does not already make:
which event types are responses, the end event, and votes typed as numbers.

The start event is `diabot.sending.poll_content` (checked field by field
against what Element parses, see ../shared/guide/facts.md); its answer ids are
"1".."n", so a member whose client cannot show polls votes by replying "2".
"""

from __future__ import annotations

import re

from diabot.events import RoomEvent

RESPONSE_TYPES = ("org.matrix.msc3381.poll.response", "m.poll.response")
POLL_END = "org.matrix.msc3381.poll.end"
_TEXT = "org.matrix.msc1767.text"

# "2", "1, 3", "1 en 3", "1 und 3", "1 & 3", "#2": a reply that is only numbers is a vote.
_NUMBERS = re.compile(r"^\s*#?\d{1,2}(?:\s*(?:,|;|/|\+|&|\s|\ben\b|\bund\b|\band\b)\s*#?\d{1,2})*\s*[.!]?\s*$", re.I)
_NUMBER = re.compile(r"\d{1,2}")


def poll_reference(event: RoomEvent) -> str | None:
    """The poll a response (or end) refers to: an m.reference relation."""
    rel = event.relates_to
    target = rel.get("event_id")
    return target if rel.get("rel_type") == "m.reference" and isinstance(target, str) else None


def end_content(start_event_id: str, text: str) -> dict:
    """An MSC3381 end event, in the unstable form Element reads; `text` is the
    result, as fallback for clients that show the event itself."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        POLL_END: {},
        _TEXT: text,
        "body": text,
        "m.mentions": {},
    }


def typed_numbers(body: str) -> list[int] | None:
    """The numbers of a reply that says nothing else ("1, 3"); None for any other text."""
    if not _NUMBERS.match(body):
        return None
    return [int(n) for n in _NUMBER.findall(body)]
