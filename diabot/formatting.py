"""Bot output: markdown -> sanitised HTML -> m.notice content, split to fit.

Every formatted body goes through nh3 with the tag set the Matrix spec
recommends, whatever produced the markdown (user input can end up in it).
"""

from __future__ import annotations

import json
import re

import nh3
from markdown_it import MarkdownIt

# The HTML subset of the Matrix client-server spec (m.room.message formats).
ALLOWED_TAGS = {
    "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
    "sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br",
    "div", "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "details", "summary",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "target"},
    "ol": {"start"},
    "code": {"class"},
    "span": {"data-mx-spoiler"},
}
URL_SCHEMES = {"https", "http", "ftp", "mailto", "magnet", "matrix"}

# Leave room for encryption: a megolm payload is base64 of the JSON (4/3)
# plus keys and ids, and the whole event must stay under 65,536 bytes.
MAX_CONTENT_BYTES = 30_000
MAX_PARTS = 4

_md = MarkdownIt("commonmark", {"breaks": True, "html": False, "linkify": False}).enable("table").enable("strikethrough")
_ROOM_PING = re.compile(r"@room\b", re.IGNORECASE)


def render_html(markdown: str) -> str:
    html = _md.render(markdown)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
    ).strip()


def defuse_room_ping(text: str) -> str:
    """Clients without intentional-mentions support ping on a literal @room."""
    return _ROOM_PING.sub("@\u2060room", text)


def _size(content: dict) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode("utf-8"))


def _split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then hard boundaries; each part < limit bytes."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    for sep in ("\n\n", "\n", " "):
        pieces = text.split(sep)
        if len(pieces) > 1:
            break
    else:
        pieces, sep = [text[i:i + limit // 4] for i in range(0, len(text), limit // 4)], ""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = piece if not current else current + sep + piece
        if len(candidate.encode("utf-8")) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if len(piece.encode("utf-8")) > limit:
            parts.extend(_split_text(piece, limit))
            current = ""
        else:
            current = piece
    if current:
        parts.append(current)
    return parts


def notice_contents(
    markdown: str,
    *,
    mentions: list[str] | None = None,
    relates_to: dict | None = None,
    cut_note: str = "…",
    max_bytes: int = MAX_CONTENT_BYTES,
    max_parts: int = MAX_PARTS,
) -> list[dict]:
    """One or more m.notice contents; all parts share the relation (thread/reply)."""
    text = defuse_room_ping(markdown.strip())
    # HTML is roughly as long as the text plus tags; budget a third each.
    parts = _split_text(text, max_bytes // 3)
    if len(parts) > max_parts:
        parts = parts[:max_parts]
        parts[-1] = parts[-1] + "\n\n" + cut_note
    contents = []
    for part in parts:
        content: dict = {
            "msgtype": "m.notice",
            "body": part,
            "m.mentions": {"user_ids": sorted(set(mentions))} if mentions else {},
        }
        html = render_html(part)
        if html and html != f"<p>{nh3.clean_text(part)}</p>":
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if relates_to:
            content["m.relates_to"] = relates_to
        if _size(content) > max_bytes:  # pathological markup: plain text only
            content.pop("format", None)
            content.pop("formatted_body", None)
        contents.append(content)
    return contents


def reply_relation(event_id: str, thread_root: str | None) -> dict:
    """Answer in the thread when the command came from one, else a plain reply."""
    if thread_root:
        return {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": event_id},
        }
    return {"m.in_reply_to": {"event_id": event_id}}
