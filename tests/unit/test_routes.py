"""Plugin web routes: mounted under the plugin's name, served by the bot's
aiohttp server, with one error boundary (500 + trace id, no traceback)."""

import time
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from diabot.config import parse_settings
from diabot.metrics import Metrics
from diabot.routes import route
from diabot.web import build_web_app

GOOD = {"matrix": {"homeserver": "http://127.0.0.1:8008", "user_id": "@bot:localhost", "password": "s3cret-pw"}}


class Feeds:
    name = "events"

    def __init__(self):
        self.tokens = {"abc123": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}

    @route("GET", "/feed/{token}.ics")
    async def feed(self, request: web.Request) -> web.Response:
        body = self.tokens.get(request.match_info["token"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(text=body, content_type="text/calendar")

    @route("GET", "/broken")
    async def broken(self, request: web.Request) -> web.Response:
        raise ZeroDivisionError("secret detail @anna:x")


class Other:
    name = "polls"

    @route("GET", "/feed/{token}.ics")  # same relative path, another plugin: no clash
    async def feed(self, request: web.Request) -> web.Response:
        return web.Response(text="polls")


@pytest.fixture
async def client():
    async def ping():
        return True

    async def pending_count():
        return 0

    app = SimpleNamespace(
        settings=parse_settings({**GOOD, "web": {"token": "t0ken-for-ops"}}, env={}),
        db=SimpleNamespace(ping=ping),
        metrics=Metrics(),
        matrix=SimpleNamespace(last_sync=time.monotonic(), stuck_since=None),
        outbox=SimpleNamespace(pending_count=pending_count),
        plugins=[Feeds(), Other()],
    )
    client = TestClient(TestServer(build_web_app(app)))
    await client.start_server()
    yield client
    await client.close()


async def test_a_plugin_route_is_served_under_its_name_without_the_ops_token(client):
    resp = await client.get("/events/feed/abc123.ics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/calendar")
    assert (await resp.text()).startswith("BEGIN:VCALENDAR")
    assert await (await client.get("/polls/feed/abc123.ics")).text() == "polls"


async def test_unknown_tokens_and_paths_are_404(client):
    assert (await client.get("/events/feed/nope.ics")).status == 404
    assert (await client.get("/feed/abc123.ics")).status == 404  # not mounted at the root


async def test_a_failing_route_answers_500_with_a_trace_id_and_no_detail(client, caplog):
    resp = await client.get("/events/broken")
    assert resp.status == 500
    body = await resp.json()
    assert set(body) == {"error", "trace_id"}
    assert "anna" not in await resp.text()
    assert any(getattr(r, "trace_id", None) == body["trace_id"] for r in caplog.records)


def test_a_route_needs_a_known_method_and_an_absolute_path():
    with pytest.raises(ValueError):
        route("FETCH", "/x")
    with pytest.raises(ValueError):
        route("GET", "x")
