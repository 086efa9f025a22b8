"""`GET /_matrix/client/v1/rooms/{room}/relations/{event}/{rel_type}`, all
pages, as diabot events (nio 0.26's own iterator fails with an AttributeError
on an error answer and has no bound on a page's time).

In an encrypted room the related events come as m.room.encrypted: their
`m.relates_to` stays in the clear, which is how the server finds them. They
are decrypted with the megolm keys the bot's crypto store holds — a member's
device shares the room key with every device in the room, the bot's too —
exactly as the sync does; nio copies the clear relation into the decrypted
content. What the bot cannot decrypt (sent before it joined, keys withheld,
keys not arrived yet) is left out and counted in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import quote, urlencode

from aiohttp import ClientError
from nio import AsyncClient, Event, MegolmEvent

from ..errors import TransientError
from ..events import RoomEvent, Unusable
from .convert import convert
from .responses import EDGE_TIMEOUT_S

log = logging.getLogger(__name__)
PAGE = 1000  # Synapse's largest page
MAX_PAGES = 100
RATE_LIMIT_TRIES = 5


async def fetch_relations(client: AsyncClient, room_id: str, event_id: str, rel_type: str) -> list[RoomEvent]:
    path = f"/_matrix/client/v1/rooms/{quote(room_id, safe='')}/relations/{quote(event_id, safe='')}"
    path += f"/{quote(rel_type, safe='')}"
    events: list[RoomEvent] = []
    unreadable = 0
    token: str | None = None
    for _ in range(MAX_PAGES):
        query = {"dir": "b", "limit": str(PAGE)} | ({"from": token} if token else {})
        page = await _get_json(client, f"{path}?{urlencode(query)}")
        if page is None:
            break
        chunk = page.get("chunk")
        for raw in chunk if isinstance(chunk, list) else []:
            event = _readable(client, raw, room_id)
            if event is None:
                unreadable += 1
            elif not isinstance(event, Unusable):
                events.append(event)
        next_batch = page.get("next_batch")
        token = next_batch if isinstance(next_batch, str) and next_batch else None
        if token is None:
            break
    if unreadable:
        log.info("related events the bot cannot decrypt", extra={"room_id": room_id, "count": unreadable})
    return events


def _readable(client: AsyncClient, raw: object, room_id: str) -> RoomEvent | Unusable | None:
    """A fetched event as a diabot event; None if it stays encrypted."""
    if not isinstance(raw, dict) or raw.get("type") != "m.room.encrypted":
        return convert(raw, room_id, False)
    try:
        parsed = Event.parse_event(raw)
    except Exception:  # a malformed event: nio's parser is not total
        return Unusable(event_id="", room_id=room_id, reason="unparseable encrypted event")
    if not isinstance(parsed, MegolmEvent):
        return None
    parsed.room_id = room_id
    try:
        decrypted = client.decrypt_event(parsed)
    except Exception:  # no session for it (nio raises EncryptionError)
        return None
    source = getattr(decrypted, "source", None)
    if isinstance(decrypted, MegolmEvent) or not isinstance(source, dict):
        return None
    return convert(source, room_id, True)


async def _get_json(client: AsyncClient, path: str) -> dict | None:
    """TransientError for 5xx, 429 (after a few waits), timeouts and connection
    errors; None for a refusal (the bot left the room, no such event)."""
    headers = {"Authorization": f"Bearer {client.access_token}"}
    for _ in range(RATE_LIMIT_TRIES):
        try:
            async with asyncio.timeout(EDGE_TIMEOUT_S):
                resp = await client.send("GET", path, headers=headers)
                status, text = resp.status, await resp.text()
        except (TimeoutError, ClientError, ConnectionError) as exc:
            raise TransientError(f"relations: {type(exc).__name__} {exc}".strip()) from exc
        body = _json_object(text)
        if status == 429:
            wait_ms = body.get("retry_after_ms")
            await asyncio.sleep(min(float(wait_ms) if isinstance(wait_ms, (int, float)) else 1000.0, 10_000) / 1000)
            continue
        if status >= 500:
            raise TransientError(f"relations: HTTP {status}")
        if status != 200:
            log.warning("relations refused", extra={"status": status, "errcode": body.get("errcode")})
            return None
        return body
    raise TransientError("relations: still rate limited")


def _json_object(text: str) -> dict:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
