"""A small authenticated client-server API client for what nio does not cover
(cross-signing). Used by the running bot and by `diabot identity`."""

from __future__ import annotations

import json
from typing import Any

import aiohttp


class HttpApi:
    def __init__(self, homeserver: str, access_token: str, timeout_s: float = 30):
        self.homeserver = homeserver.rstrip("/")
        self._token = access_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self._token}"}
        async with self._session.request(method, self.homeserver + path, json=body, headers=headers) as resp:
            text = await resp.text()
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return resp.status, data if isinstance(data, dict) else {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
