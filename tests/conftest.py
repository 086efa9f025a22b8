"""Shared fixtures: a real Synapse (session), real users, the bot as a process."""

from __future__ import annotations

import itertools
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.ports import free_port  # noqa: E402
from tests.support.bot_process import BotProcess  # noqa: E402
from tests.support.matrix_user import MatrixUser  # noqa: E402

BOT_PASSWORD = "bot-pass-" + uuid.uuid4().hex[:8]
_counter = itertools.count()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    from devtools.synapse import SynapseServer

    server = SynapseServer(tmp_path_factory.mktemp("synapse"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL (Debian package) on 127.0.0.1, for the whole session."""
    from devtools.postgres import PostgresServer, ensure_postgres_installed

    ensure_postgres_installed()
    server = PostgresServer(tmp_path_factory.mktemp("pg"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def accounts(synapse):
    """Fixed people of the community. The bot account is registered once; each
    BotProcess logs in with its own data dir (so its own device)."""
    names = {"mod": "moderator", "anna": "anna", "bernd": "bernd", "stranger": "stranger"}
    out = {key: synapse.register(f"{name}{uuid.uuid4().hex[:4]}", "pw-" + name) for key, name in names.items()}
    out["bot"] = synapse.register("diabot", BOT_PASSWORD)
    return out


@pytest.fixture(scope="session")
def bot_identity(tmp_path_factory) -> Path:
    """The shared bot account's cross-signing keys, generated once. Every bot
    data dir starts with a copy, as an operator restores the keys file from a
    backup; the first bot to start uploads them."""
    from diabot.matrix.identity import CrossSigningKeys, KeyStore

    store = KeyStore(tmp_path_factory.mktemp("identity"))
    store.save(CrossSigningKeys.generate())
    return store.path


@pytest.fixture
def make_bot(synapse, accounts, tmp_path, bot_identity):
    bots: list[BotProcess] = []

    def factory(extra: dict | None = None, workdir: Path | None = None) -> BotProcess:
        bot = BotProcess(
            workdir or tmp_path / f"bot{next(_counter)}",
            synapse.url,
            free_port(),
            password=BOT_PASSWORD,
            allow_users=[accounts["mod"]["user_id"], accounts["anna"]["user_id"], accounts["bernd"]["user_id"]],
            extra=extra,
            user_id=accounts["bot"]["user_id"],
            identity_file=bot_identity,
        )
        bots.append(bot)
        return bot

    yield factory
    for bot in bots:
        bot.stop()


@pytest.fixture
async def users(synapse, accounts, tmp_path):
    """MatrixUser clients for the people, syncing in the background."""
    started: dict[str, MatrixUser] = {}

    async def get(key: str) -> MatrixUser:
        if key not in started:
            store = tmp_path.parent / "stores" / key  # one device per person for the whole session
            started[key] = await MatrixUser(synapse.url, accounts[key], store).start()
        return started[key]

    yield get
    for user in started.values():
        await user.close()
