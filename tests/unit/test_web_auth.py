"""/metrics and the details of /health need web.token when it is set; a bind
beyond loopback without a token is a configuration error (exit 2)."""

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from diabot.config import parse_settings
from diabot.metrics import Metrics
from diabot.web import build_web_app

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"matrix": {"homeserver": "http://127.0.0.1:8008", "user_id": "@bot:localhost", "password": "s3cret-pw"}}
TOKEN = "metrics-token-7f3a"


def fake_app(web: dict):
    async def ping():
        return True

    async def pending_count():
        return 0

    settings = parse_settings({**GOOD, "web": web}, env={})
    return SimpleNamespace(
        settings=settings,
        db=SimpleNamespace(ping=ping),
        metrics=Metrics(),
        matrix=SimpleNamespace(last_sync=time.monotonic(), stuck_since=None),
        outbox=SimpleNamespace(pending_count=pending_count),
        plugins=[],
    )


@pytest.fixture
async def client_for():
    clients = []

    async def make(web: dict) -> TestClient:
        client = TestClient(TestServer(build_web_app(fake_app(web))))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_metrics_and_health_details_need_the_token(client_for):
    client = await client_for({"token": TOKEN})
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/metrics", headers={"Authorization": TOKEN})).status == 401  # scheme missing
    resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200 and "diabot_outbox_pending" in await resp.text()

    bare = await client.get("/health")
    assert bare.status == 200 and await bare.json() == {"status": "ok"}  # liveness without the secret
    detailed = await client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (await detailed.json())["database"] == "ok"


async def test_without_a_token_loopback_stays_open(client_for):
    client = await client_for({})
    assert (await client.get("/metrics")).status == 200
    assert "sync" in await (await client.get("/health")).json()


def run_check(config: dict, env: dict, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIABOT_")} | env
    return subprocess.run(
        [sys.executable, "-m", "diabot", "-c", str(path), "check-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "bot.example.org"])
def test_public_bind_without_token_is_refused(tmp_path, host):
    result = run_check({**GOOD, "web": {"host": host}}, {}, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "web: " in result.stderr and "web.token" in result.stderr


def test_public_bind_with_token_from_the_environment_is_fine(tmp_path):
    result = run_check({**GOOD, "web": {"host": "0.0.0.0"}}, {"DIABOT_WEB_TOKEN": TOKEN}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    for host in ("127.0.0.1", "::1", "localhost"):
        assert run_check({**GOOD, "web": {"host": host}}, {}, tmp_path).returncode == 0, host
    # Disabled endpoints bind nothing: no token needed.
    assert run_check({**GOOD, "web": {"host": "0.0.0.0", "enabled": False}}, {}, tmp_path).returncode == 0


def test_the_token_is_a_secret():
    settings = parse_settings({**GOOD, "web": {"host": "0.0.0.0"}}, env={"DIABOT_WEB_TOKEN": TOKEN})
    assert TOKEN in settings.secrets() and TOKEN not in repr(settings)
