"""Operations endpoints: /health (sync state, database) and /metrics."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST


def build_web_app(app) -> web.Application:
    async def health(_request: web.Request) -> web.Response:
        db_ok = await app.db.ping()
        last = app.matrix.last_sync
        age = None if not last else round(time.monotonic() - last, 1)
        # A long-poll sync returns at least every sync_timeout; allow a margin.
        sync_ok = age is not None and age < app.settings.matrix.sync_timeout_ms / 1000 + 60
        body = {"status": "ok" if db_ok and sync_ok else "degraded",
                "database": "ok" if db_ok else "unreachable",
                "sync": {"ok": sync_ok, "seconds_since_last": age}}
        return web.json_response(body, status=200 if db_ok and sync_ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        if app.matrix.last_sync:
            app.metrics.sync_lag.set(time.monotonic() - app.matrix.last_sync)
        app.metrics.outbox_pending.set(await app.outbox.pending_count())
        return web.Response(body=app.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application()
    web_app.router.add_get("/health", health)
    web_app.router.add_get("/metrics", metrics)
    return web_app
