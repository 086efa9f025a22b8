"""Plugin web routes on the bot's own aiohttp server (e.g. calendar feeds).

A plugin declares `@route("GET", "/feed/{token}.ics")` on a method taking the
aiohttp request; it is served under `/<plugin name>/feed/{token}.ics`, so two
plugins never collide with each other or with /health and /metrics. These
routes are public: a route that serves members' data checks its own secret
(e.g. a per-member token in the path), the operator's `web.token` is not
for members. One error boundary: a bug answers 500 with a trace id, never a
traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # relative to /<plugin name>, starts with "/"


def route(method: str, path: str) -> Callable[[Any], Any]:
    method = method.upper()
    if method not in METHODS or not path.startswith("/"):
        raise ValueError(f"route({method!r}, {path!r}): a method of {sorted(METHODS)} and a path starting with /")
    spec = RouteSpec(method, path)

    def mark(fn: Any) -> Any:
        fn.__diabot_route__ = spec
        return fn

    return mark


def routes_of(plugin: object) -> list[tuple[RouteSpec, RouteHandler]]:
    found = []
    for attr in dir(type(plugin)):
        spec = getattr(getattr(type(plugin), attr), "__diabot_route__", None)
        if isinstance(spec, RouteSpec):
            found.append((spec, getattr(plugin, attr)))
    return found


def _guarded(plugin_name: str, handler: RouteHandler) -> RouteHandler:
    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise  # 404, 403, … chosen by the handler
        except Exception:
            trace_id = uuid.uuid4().hex[:8]
            log.exception("web route failed", extra={"trace_id": trace_id, "plugin": plugin_name})
            return web.json_response({"error": "internal", "trace_id": trace_id}, status=500)

    return serve


def add_plugin_routes(web_app: web.Application, plugins: Iterable[Any]) -> list[str]:
    """Mount every plugin's routes; returns the mounted paths (for the log)."""
    mounted = []
    for plugin in plugins:
        for spec, handler in routes_of(plugin):
            path = f"/{plugin.name}{spec.path}"
            web_app.router.add_route(spec.method, path, _guarded(plugin.name, handler))
            mounted.append(f"{spec.method} {path}")
    return mounted
