"""How a homeserver answer or failure is read at the edge: a result, a
permanent refusal (the caller's existing behaviour), or `TransientError`
(5xx, rate limited after nio's retries, timeout, connection error) so the
work is tried again later."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import ClientError
from nio import ErrorResponse

from ..errors import TransientError

T = TypeVar("T")

# Longest a single administrative call may take before it counts as a timeout.
# nio itself retries connection errors and 429s without end; this bounds it.
EDGE_TIMEOUT_S = 60.0

_TRANSIENT_ERRCODES = {"M_LIMIT_EXCEEDED", "M_UNKNOWN"}


def http_status(resp: object) -> int | None:
    transport = getattr(resp, "transport_response", None)
    status = getattr(transport, "status", None)
    return status if isinstance(status, int) else None


def is_transient(resp: object) -> bool:
    """An error answer that may pass: 5xx, 429 / M_LIMIT_EXCEEDED, or no HTTP answer at all."""
    status = http_status(resp)
    errcode = getattr(resp, "status_code", None)
    if status == 429 or errcode in ("M_LIMIT_EXCEEDED", 429):
        return True
    if status is not None:
        return status >= 500
    # No transport response: nio built the error without an HTTP answer (e.g. a body it could not parse).
    return errcode is None or errcode in _TRANSIENT_ERRCODES


def describe(resp: object) -> str:
    parts = [str(p) for p in (http_status(resp), getattr(resp, "status_code", None)) if p is not None]
    return f"{' '.join(parts)} {getattr(resp, 'message', '') or resp!r}".strip()


def raise_if_transient(resp: object, what: str) -> None:
    if isinstance(resp, ErrorResponse) and is_transient(resp):
        raise TransientError(f"{what}: {describe(resp)}")


async def call(request: Awaitable[T], what: str, limit_s: float = EDGE_TIMEOUT_S) -> T:
    """Await a nio request; a timeout or connection error becomes TransientError, and so does a
    transient error answer. Anything else (a result or a permanent refusal) is returned as is."""
    try:
        resp = await asyncio.wait_for(request, limit_s)
    except (TimeoutError, ClientError, ConnectionError) as exc:
        raise TransientError(f"{what}: {type(exc).__name__} {exc}".strip()) from exc
    raise_if_transient(resp, what)
    return resp
