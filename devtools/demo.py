"""Local demo: Synapse on 127.0.0.1:8008, the community space with the themed
rooms from config/themes.yaml, a moderator and two members (NL, DE), and the
bot. Ctrl-C stops everything; demo-data/ survives for the next run.

    bash scripts/demo.sh            (or: .venv/bin/python -m devtools.demo)
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import yaml

from devtools.synapse import SynapseServer

ROOT = Path(__file__).resolve().parents[1]
THEMES = yaml.safe_load((ROOT / "config" / "themes.yaml").read_text(encoding="utf-8"))["themes"]
PEOPLE = {
    "diabot": "diabot-demo-pw",
    "moderator": "moderator-demo-pw",
    "jan": "jan-demo-pw",  # Dutch member (Emmen)
    "katrin": "katrin-demo-pw",  # German member (Emsland)
}


def _api(server: SynapseServer, method: str, path: str, token: str, body: dict | None = None) -> dict:
    status, data = server.request(method, path, body, token=token)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {data}")
    return data


def wait_for_space(db: Path, timeout: float = 90) -> dict[str, str]:
    """The bot creates the space and themed rooms itself (plugins/community);
    wait until its database lists them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(db)
            rows = dict(con.execute("SELECT slug, room_id FROM theme_rooms").fetchall())
            con.close()
            if "_space" in rows and len(rows) > len(THEMES):
                return rows
        except sqlite3.Error:
            pass
        time.sleep(0.5)
    raise TimeoutError("the bot did not create the community space in time; see demo-data/bot.log")


def invite_members(server: SynapseServer, creds: dict[str, dict], rooms: dict[str, str]) -> dict[str, str]:
    """The moderator joins the space and invites the two demo members who are not in it yet;
    when they accept, the bot starts its onboarding chat with them. Returns each member's
    membership of the space as it is now ("invite", or "join" on a later start)."""
    mod = creds["moderator"]["access_token"]
    for _slug, room in rooms.items():
        _api(server, "POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room)}", mod, {})
    space = rooms["_space"]
    members = _api(server, "GET", f"/_matrix/client/v3/rooms/{urllib.parse.quote(space)}/members", mod, None)
    state = {e["state_key"]: e["content"].get("membership") for e in members.get("chunk", [])}
    out = {}
    for name in ("jan", "katrin"):
        user_id = creds[name]["user_id"]
        if state.get(user_id) not in ("join", "invite"):
            status, data = server.request(
                "POST", f"/_matrix/client/v3/rooms/{urllib.parse.quote(space)}/invite", {"user_id": user_id}, token=mod
            )
            if status >= 400:
                raise RuntimeError(f"invite {name}: {status} {data}")
        out[name] = state.get(user_id) or "invite"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "demo-data")
    parser.add_argument("--port", type=int, default=8008)
    args = parser.parse_args()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)

    server = SynapseServer(data / "synapse", port=args.port)
    bot = None
    try:
        print(f"starting Synapse on 127.0.0.1:{args.port} …", flush=True)
        server.start()
        creds = {name: server.register(name, pw) for name, pw in PEOPLE.items()}
        config = {
            "matrix": {"homeserver": server.url, "user_id": creds["diabot"]["user_id"], "password": PEOPLE["diabot"]},
            "data_dir": str(data / "bot"),
            "bot": {"default_language": "nl", "admins": [creds["moderator"]["user_id"]]},
            "invites": {"allow_servers": [server.server_name]},
            "web": {"host": "127.0.0.1", "port": 8080},
            "logging": {"level": "INFO", "format": "console"},
            "plugins": {"core": {}, "community": {}, "members": {}, "translate": {}},
        }
        (data / "diabot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        bot = subprocess.Popen(
            [sys.executable, "-m", "diabot", "-c", str(data / "diabot.yaml"), "run"],
            cwd=ROOT,
            stdout=open(data / "bot.log", "ab"),  # noqa: SIM115 - owned by the bot process
            stderr=subprocess.STDOUT,
        )
        rooms = wait_for_space(data / "bot" / "diabot.db")
        if bot.poll() is not None:
            print((data / "bot.log").read_text()[-3000:])
            return 1
        memberships = invite_members(server, creds, rooms)
        print("\n  diabot demo is running\n")
        print(f"  Homeserver:   {server.url}   (server name: {server.server_name})")
        print("  Logins (username / password), e.g. in Element: 'Sign in' → edit homeserver:")
        for name in ("moderator", "jan", "katrin"):
            print(f"    {name:<10} / {PEOPLE[name]}")
        print(f"  Bot:          {creds['diabot']['user_id']}  — try !help, !hulp, !hilfe, !ping")
        print(f"  Space:        {rooms['_space']} with {len(rooms) - 1} themed rooms")
        for name, membership in memberships.items():
            said = (
                "has an invite: accepting it starts the bot's onboarding chat"
                if membership == "invite"
                else "is a member"
            )
            print(f"    {name:<10} {said}")
        print("  Translation:  no model is installed (nothing can be downloaded here); see README, 'Translation'")
        print(f"  Health:       http://127.0.0.1:8080/health   Logs: {data / 'bot.log'}")
        print("\n  Ctrl-C stops the bot and Synapse; demo-data/ is kept.\n", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while bot.poll() is None:
            time.sleep(1)
        print("the bot stopped; see", data / "bot.log")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if bot and bot.poll() is None:
            bot.terminate()
            try:
                bot.wait(15)
            except subprocess.TimeoutExpired:
                bot.kill()
        server.stop()
        print("stopped.")


if __name__ == "__main__":
    sys.exit(main())
