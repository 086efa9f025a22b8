"""nio events -> diabot.events. Works on the raw event dict (`source`), which
for decrypted events is the decrypted payload.

Total by design: whatever JSON a client sends, the result is a clean event or
an `Unusable` saying why, never an exception. One malformed event must not
stop the sync loop (it would be retried for ever and hold up every room)."""

from __future__ import annotations

from typing import Any

from ..events import Membership, Message, Reaction, Redaction, RoomEvent, Unusable, strip_reply_fallback


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ts(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def convert(source: Any, room_id: str, encrypted: bool) -> RoomEvent | Unusable:
    source = _dict(source)
    event_id, sender, etype = source.get("event_id"), source.get("sender"), source.get("type")
    if not (
        isinstance(event_id, str)
        and event_id
        and isinstance(sender, str)
        and sender
        and isinstance(etype, str)
        and etype
    ):
        return Unusable(event_id=_str(event_id), room_id=room_id, reason="no event id, sender or type")
    content = source.get("content")
    if not isinstance(content, dict):
        return Unusable(event_id=event_id, room_id=room_id, reason="content is not an object")
    base: dict[str, Any] = dict(
        event_id=event_id,
        room_id=room_id,
        sender=sender,
        ts=_ts(source.get("origin_server_ts")),
        type=etype,
        content=content,
        encrypted=encrypted,
    )
    rel = _dict(content.get("m.relates_to"))
    if etype == "m.room.message":
        body = content.get("body")
        if not isinstance(body, str):
            return RoomEvent(**base)  # redacted, or not a message we can read: nothing to answer
        new_content = content.get("m.new_content")
        if rel.get("rel_type") == "m.replace" and isinstance(new_content, dict):
            body = _str(new_content.get("body")) or body
        elif isinstance(rel.get("m.in_reply_to"), dict):
            body = strip_reply_fallback(body)
        return Message(**base, body=body.strip(), msgtype=_str(content.get("msgtype")))
    if etype == "m.reaction":
        if rel.get("rel_type") != "m.annotation":
            return RoomEvent(**base)
        return Reaction(**base, key=_str(rel.get("key")), target=_str(rel.get("event_id")))
    if etype == "m.room.member":
        prev = _dict(_dict(source.get("unsigned")).get("prev_content"))
        prev_membership = prev.get("membership")
        return Membership(
            **base,
            user_id=_str(source.get("state_key")),
            membership=_str(content.get("membership")),
            prev_membership=prev_membership if isinstance(prev_membership, str) else None,
        )
    if etype == "m.room.redaction":
        return Redaction(**base, redacts=_str(source.get("redacts")) or _str(content.get("redacts")))
    return RoomEvent(**base)


def safe_convert(source: Any, room_id: str, encrypted: bool) -> RoomEvent | Unusable:
    """convert() is total (fuzzed); this guard keeps a future bug in it from stopping the sync loop."""
    try:
        return convert(source, room_id, encrypted)
    except Exception as exc:
        event_id = source.get("event_id") if isinstance(source, dict) else ""
        return Unusable(
            event_id=event_id if isinstance(event_id, str) else "",
            room_id=room_id,
            reason=f"convert failed: {type(exc).__name__}",
        )
