"""The bot's cross-signed identity, checked from outside with /keys/query.

Each test uses a bot account of its own: a reset or a first set-up must not
change the identity the other tests' bot shares."""

from __future__ import annotations

import base64
import json
import stat
import urllib.request
import uuid

import pytest
from canonicaljson import encode_canonical_json
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from devtools.ports import free_port
from tests.support.bot_process import BotProcess

from .helpers import room_with_bot

pytestmark = pytest.mark.integration


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def verified_by(obj: dict, user_id: str, public_b64: str) -> bool:
    """Ed25519 check written here, independent of the bot's code: canonical JSON
    without signatures/unsigned, signature under ed25519:<public key>."""
    sig = ((obj.get("signatures") or {}).get(user_id) or {}).get(f"ed25519:{public_b64}")
    if sig is None:
        return False
    payload = encode_canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})
    try:
        VerifyKey(_b64decode(public_b64)).verify(payload, _b64decode(sig))
        return True
    except BadSignatureError:
        return False


def keys_query(synapse_url: str, token: str, user_id: str) -> dict:
    req = urllib.request.Request(
        f"{synapse_url}/_matrix/client/v3/keys/query",
        method="POST",
        data=json.dumps({"device_keys": {user_id: []}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def chain(synapse_url: str, observer_token: str, bot_id: str, device_id: str) -> tuple[str, bool, bool]:
    """(master key, self-signing signed by master, device signed by self-signing) as another user sees it."""
    body = keys_query(synapse_url, observer_token, bot_id)
    master = body.get("master_keys", {}).get(bot_id)
    ssk = body.get("self_signing_keys", {}).get(bot_id)
    assert master and ssk, f"no cross-signing keys published for {bot_id}: {sorted(body)}"
    master_pub = next(iter(master["keys"].values()))
    ssk_pub = next(iter(ssk["keys"].values()))
    device = body["device_keys"][bot_id][device_id]
    return master_pub, verified_by(ssk, bot_id, master_pub), verified_by(device, bot_id, ssk_pub)


@pytest.fixture
def own_bot(synapse, accounts, tmp_path):
    """A factory for bots on a fresh account of their own."""
    made: list[BotProcess] = []
    account = synapse.register(f"idbot{uuid.uuid4().hex[:6]}", "idbot-pass")

    def factory(name: str = "a", *, password: str | None = "idbot-pass", extra: dict | None = None) -> BotProcess:
        bot = BotProcess(
            tmp_path / name,
            synapse.url,
            free_port(),
            password=password or "",
            allow_users=[accounts["anna"]["user_id"]],
            user_id=account["user_id"],
            extra=extra,
        )
        if password is None:
            del bot.config["matrix"]["password"]
            bot.rewrite_config()
        made.append(bot)
        return bot

    yield factory
    for bot in made:
        bot.stop()


def device_of(bot: BotProcess) -> str:
    return json.loads((bot.workdir / "data" / "credentials.json").read_text())["device_id"]


async def test_first_start_publishes_a_verified_chain(own_bot, accounts, synapse):
    bot = own_bot().start()
    master, ssk_ok, device_ok = chain(synapse.url, accounts["anna"]["access_token"], bot.user_id, device_of(bot))
    assert ssk_ok, "self-signing key not signed by the master key"
    assert device_ok, "the bot's device is not signed by its self-signing key"

    keys_file = bot.workdir / "data" / "cross_signing.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    # Nothing in the data dir (database, crypto store, credentials) is readable by others.
    data = bot.workdir / "data"
    modes = {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]}
    assert {p for p, m in modes.items() if m & 0o077} == set(), modes
    assert "diabot.db" in modes and any(p.startswith("crypto/") for p in modes)
    secrets = [v for k, v in json.loads(keys_file.read_text()).items() if k != "version"]
    log = bot.log_text()
    assert master in log  # the public key is logged on purpose: the private ones never
    assert not [s for s in secrets if s in log]

    status = bot.cli("identity", "status")
    assert status.returncode == 0, status.stderr
    fingerprint = " ".join(master[i : i + 4] for i in range(0, len(master), 4))
    assert fingerprint in status.stdout and "signed" in status.stdout
    assert not [s for s in secrets if s in status.stdout + status.stderr]

    # Restart, same device: nothing changes, no new upload.
    bot.stop()
    bot.start()
    assert chain(synapse.url, accounts["anna"]["access_token"], bot.user_id, device_of(bot)) == (master, True, True)


async def test_new_device_is_signed_from_the_keys_file_without_password(own_bot, accounts, synapse):
    first = own_bot("first").start()
    master, *_ = chain(synapse.url, accounts["anna"]["access_token"], first.user_id, device_of(first))
    first.stop()
    # A new device of the same account (an access token from a fresh login),
    # no password configured: only the keys file from the backup.
    login = synapse.login(first.user_id.split(":")[0][1:], "idbot-pass")
    device_id = login["device_id"]
    second = own_bot("second", password=None, extra={"matrix": {"access_token": login["access_token"]}})
    (second.workdir / "data").mkdir(parents=True, exist_ok=True)
    (second.workdir / "data" / "cross_signing.json").write_bytes(
        (first.workdir / "data" / "cross_signing.json").read_bytes()
    )
    second.start()
    assert device_of(second) == device_id != device_of(first)
    assert chain(synapse.url, accounts["anna"]["access_token"], second.user_id, device_id) == (master, True, True)


async def test_missing_keys_file_is_refused_with_a_clear_message(own_bot, accounts, synapse):
    own_bot("first").start().stop()
    lost = own_bot("lost")  # fresh data dir: the identity exists, its keys are not here
    with pytest.raises(RuntimeError) as err:
        lost.start(timeout=30)
    assert "exited with 3" in str(err.value)
    assert "cross_signing.json" in lost.log_text() and "identity reset" in lost.log_text()


async def test_reset_replaces_the_identity_and_the_bot_keeps_talking(own_bot, accounts, synapse, users):
    bot = own_bot().start()
    observer = accounts["anna"]["access_token"]
    old_master, *_ = chain(synapse.url, observer, bot.user_id, device_of(bot))

    refused = bot.cli("identity", "reset")  # no tty, no --yes: nothing happens
    assert refused.returncode == 2
    assert chain(synapse.url, observer, bot.user_id, device_of(bot))[0] == old_master

    done = bot.cli("identity", "reset", "--yes")
    assert done.returncode == 0, done.stderr
    new_master, ssk_ok, device_ok = chain(synapse.url, observer, bot.user_id, device_of(bot))
    assert new_master != old_master and ssk_ok and device_ok
    assert json.loads((bot.workdir / "data" / "cross_signing.json").read_text())["master"]  # the new keys are kept

    anna = await users("anna")
    room = await room_with_bot(anna, bot.user_id, encrypted=True)
    reply = await anna.reply_to(await anna.send(room, "!ping"), bot.user_id, room, timeout=30)
    assert reply["content"]["body"] == "Pong!"

    bot.stop()  # and a restart after the reset holds the new identity
    bot.start()
    assert chain(synapse.url, observer, bot.user_id, device_of(bot)) == (new_master, True, True)
