"""Platform-neutral events. Only diabot/matrix/ knows nio; plugins see these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class RoomEvent:
    event_id: str
    room_id: str
    sender: str
    ts: int  # origin_server_ts, ms
    type: str
    content: dict[str, Any] = field(repr=False)
    encrypted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, to keep an event for a later retry (DeferredEvent)."""
        return {"kind": type(self).__name__, **asdict(self)}

    @property
    def relates_to(self) -> dict[str, Any]:
        rel = self.content.get("m.relates_to")
        return rel if isinstance(rel, dict) else {}

    @property
    def thread_root(self) -> str | None:
        rel = self.relates_to
        root = rel.get("event_id")
        return root if rel.get("rel_type") == "m.thread" and isinstance(root, str) else None


@dataclass(frozen=True)
class Message(RoomEvent):
    body: str = ""  # reply fallback already stripped
    msgtype: str = "m.text"

    @property
    def reply_to(self) -> str | None:
        reply = self.relates_to.get("m.in_reply_to")
        if isinstance(reply, dict) and not self.relates_to.get("is_falling_back"):
            target = reply.get("event_id")
            return target if isinstance(target, str) else None
        return None

    @property
    def is_edit(self) -> bool:
        return self.relates_to.get("rel_type") == "m.replace"


@dataclass(frozen=True)
class Reaction(RoomEvent):
    key: str = ""
    target: str = ""


@dataclass(frozen=True)
class Membership(RoomEvent):
    user_id: str = ""
    membership: str = ""  # join, leave, invite, ban
    prev_membership: str | None = None


@dataclass(frozen=True)
class Redaction(RoomEvent):
    redacts: str = ""


@dataclass(frozen=True)
class Undecryptable(RoomEvent):
    """A message the bot could not decrypt in time (its key never came or was
    withheld). event_id is derived from `target`, the unreadable event, so
    answering it is recorded apart from the message itself."""

    target: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Unusable:
    """An event that cannot be understood (malformed JSON shapes). It is
    logged, counted and marked handled, never given to plugins."""

    event_id: str
    room_id: str
    reason: str


def event_from_dict(data: dict[str, Any]) -> RoomEvent:
    """The inverse of `RoomEvent.to_dict`; unknown keys (from an older version) are dropped."""
    kinds: dict[str, type[RoomEvent]] = {
        cls.__name__: cls for cls in (RoomEvent, Message, Reaction, Membership, Redaction, Undecryptable)
    }
    cls = kinds[data["kind"]]
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def strip_reply_fallback(body: str) -> str:
    """Drop the `> <@user> quoted` lines clients put in front of a reply."""
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i == 0:
        return body
    # The fallback is followed by one blank line.
    if i < len(lines) and lines[i] == "":
        i += 1
    return "\n".join(lines[i:])
