"""Bot output: markdown -> sanitised HTML -> m.notice content, split to fit.

Every formatted body goes through nh3 with the tag set the Matrix spec
recommends, whatever produced the markdown (user input can end up in it).

User text (profile fields, display names, room names, quoted arguments) is
plain text, never markdown: it goes through `escape_md` before it is placed
into the bot's markdown. Catalog placeholders do that by default (see
diabot/i18n.py); code that builds markdown with f-strings calls it itself.
nh3 stays as the second line, for whatever slips through.
"""

from __future__ import annotations

import json
import re

import nh3
from markdown_it import MarkdownIt

# The HTML subset of the Matrix client-server spec (m.room.message formats).
ALLOWED_TAGS = {
    "del",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "p",
    "a",
    "ul",
    "ol",
    "sup",
    "sub",
    "li",
    "b",
    "i",
    "u",
    "strong",
    "em",
    "s",
    "code",
    "hr",
    "br",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "pre",
    "span",
    "details",
    "summary",
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

# linkify stays off: a bare URL in user text must not become a link of ours.
_md = (
    MarkdownIt("commonmark", {"breaks": True, "html": False, "linkify": False}).enable("table").enable("strikethrough")
)
_ROOM_PING = re.compile(r"@room\b", re.IGNORECASE)


class Markdown(str):
    """Text that is markdown the bot vouches for (catalog output, escaped user
    text, code spans it built): a catalog placeholder takes it as it is.

    Any str operation (join, f-string, +) returns a plain str again, which is
    escaped as user text: wrap the finished value, not its parts."""

    __slots__ = ()


# CommonMark lets a backslash escape any ASCII punctuation; these are the ones
# that start markup inline: emphasis, code, links/images, autolinks and HTML,
# headings, tables, strikethrough, the backslash itself, and an '&' that would
# start an entity (so "&lt;" stays those four characters).
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~]|&(?=#?\w+;))")
# Block markup that only counts at the start of a line (lists, setext
# underlines, thematic breaks): escape it where the value begins, since a
# template may put the placeholder at the start of a line.
_LINE_START = re.compile(r"^([-+=])|^(\d{1,9})([.)])")


def escape_md(text: object) -> Markdown:
    """User text made inert for inline use in markdown: every run of
    whitespace (newlines, Unicode line separators) becomes one space, so it
    cannot start a heading, list or quote, and markup characters are
    backslash-escaped, so it cannot make links, emphasis or code."""
    if isinstance(text, Markdown):
        return text
    flat = " ".join(str(text).split())
    flat = _INLINE_SPECIAL.sub(r"\\\1", flat)
    flat = _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", flat)
    return Markdown(flat)


def code_span(text: str) -> Markdown:
    """`text` as inline code (inert inside), for bot-made values like usages."""
    flat = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return Markdown(f"{fence}{pad}{flat}{pad}{fence}")


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
        pieces, sep = [text[i : i + limit // 4] for i in range(0, len(text), limit // 4)], ""
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
    msgtype: str = "m.notice",
) -> list[dict]:
    """One or more m.notice contents (m.text for what must reach a phone:
    push rules silence every notice); all parts share the relation."""
    text = defuse_room_ping(markdown.strip())
    # HTML is roughly as long as the text plus tags; budget a third each.
    parts = _split_text(text, max_bytes // 3)
    if len(parts) > max_parts:
        parts = parts[:max_parts]
        parts[-1] = parts[-1] + "\n\n" + cut_note
    contents = []
    for part in parts:
        content: dict = {
            "msgtype": msgtype,
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
