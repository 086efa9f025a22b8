"""nio events -> diabot.events. Works on the raw event dict (`source`), which
for decrypted events is the decrypted payload."""

from __future__ import annotations

from ..events import Membership, Message, Reaction, Redaction, RoomEvent, strip_reply_fallback


def convert(source: dict, room_id: str, encrypted: bool) -> RoomEvent | None:
    event_id = source.get("event_id")
    sender = source.get("sender")
    etype = source.get("type")
    if not (event_id and sender and etype):
        return None
    content = source.get("content") or {}
    if not isinstance(content, dict):
        return None
    base = dict(event_id=event_id, room_id=room_id, sender=sender, ts=int(source.get("origin_server_ts") or 0),
                type=etype, content=content, encrypted=encrypted)
    if etype == "m.room.message":
        body = content.get("body")
        if not isinstance(body, str):
            return None  # redacted or malformed
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") == "m.replace" and isinstance(content.get("m.new_content"), dict):
            body = content["m.new_content"].get("body", body)
        elif isinstance(rel.get("m.in_reply_to"), dict):
            body = strip_reply_fallback(body)
        return Message(**base, body=body.strip(), msgtype=str(content.get("msgtype", "")))
    if etype == "m.reaction":
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") != "m.annotation":
            return None
        return Reaction(**base, key=str(rel.get("key", "")), target=str(rel.get("event_id", "")))
    if etype == "m.room.member":
        prev = (source.get("unsigned") or {}).get("prev_content") or {}
        return Membership(**base, user_id=str(source.get("state_key", "")), membership=str(content.get("membership", "")),
                          prev_membership=prev.get("membership"))
    if etype == "m.room.redaction":
        return Redaction(**base, redacts=str(source.get("redacts") or content.get("redacts") or ""))
    return RoomEvent(**base)
