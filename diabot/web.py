"""Operations endpoints: /health (sync state, database) and /metrics.

With `web.token` set, /metrics and the details of /health need it as a
Bearer token; /health without it still answers with the status code and
ok/degraded, so a plain liveness probe needs no secret. A bind beyond
loopback without a token is refused by the configuration check.
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from .routes import add_plugin_routes

STUCK_AFTER_S = 15


def build_web_app(app) -> web.Application:
    secret = app.settings.web.token
    token = secret.get_secret_value().strip() if secret is not None else ""

    def authorized(request: web.Request) -> bool:
        if not token:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # Constant-time: the comparison must not tell how much of a guess was right.
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    async def health(request: web.Request) -> web.Response:
        db_ok = await app.db.ping()
        last = app.matrix.last_sync
        age = None if not last else round(time.monotonic() - last, 1)
        # A long-poll sync returns at least every sync_timeout; allow a margin.
        # A loop that keeps failing (homeserver down, batch cannot be stored)
        # is unhealthy after STUCK_AFTER_S, whatever the last good sync was.
        stuck = app.matrix.stuck_since
        stuck_s = None if stuck is None else round(time.monotonic() - stuck, 1)
        sync_ok = (
            age is not None
            and age < app.settings.matrix.sync_timeout_ms / 1000 + 60
            and (stuck_s is None or stuck_s < STUCK_AFTER_S)
        )
        status = 200 if db_ok and sync_ok else 503
        body: dict = {"status": "ok" if db_ok and sync_ok else "degraded"}
        if authorized(request):
            body.update(
                {
                    "database": "ok" if db_ok else "unreachable",
                    "sync": {"ok": sync_ok, "seconds_since_last": age, "failing_for_s": stuck_s},
                }
            )
        return web.json_response(body, status=status)

    async def metrics(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response(
                {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": 'Bearer realm="diabot"'}
            )
        if app.matrix.last_sync:
            app.metrics.sync_lag.set(time.monotonic() - app.matrix.last_sync)
        app.metrics.outbox_pending.set(await app.outbox.pending_count())
        return web.Response(body=app.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application()
    web_app.router.add_get("/health", health)
    web_app.router.add_get("/metrics", metrics)
    add_plugin_routes(web_app, app.plugins)
    return web_app
