"""Local demo: Synapse on 127.0.0.1:8008, the community space with the themed
rooms from config/themes.yaml, a moderator and two members (NL, DE), and the
bot. Ctrl-C stops everything; demo-data/ survives for the next run.

    bash scripts/demo.sh            (or: .venv/bin/python -m devtools.demo)
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import yaml

from devtools.synapse import SynapseServer

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = {
    "diabot": "diabot-demo-pw",
    "moderator": "moderator-demo-pw",
    "jan": "jan-demo-pw",      # Dutch member (Emmen)
    "katrin": "katrin-demo-pw",  # German member (Emsland)
}


def _api(server: SynapseServer, method: str, path: str, token: str, body: dict | None = None) -> dict:
    status, data = server.request(method, path, body, token=token)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {data}")
    return data


def _make_admin(server: SynapseServer, token: str, room: str, user_id: str) -> None:
    """Read-modify-write of power levels: in room v12 the creator must not be listed."""
    path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/state/m.room.power_levels/"
    levels = _api(server, "GET", path, token)
    levels.setdefault("users", {})[user_id] = 100
    _api(server, "PUT", path, token, levels)


def build_space(server: SynapseServer, creds: dict[str, dict], state_path: Path) -> dict:
    """Create the space and one room per theme once; later runs reuse them."""
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if state.get("space"):
        return state
    mod = creds["moderator"]["access_token"]
    bot = creds["diabot"]["user_id"]
    members = [creds["jan"]["user_id"], creds["katrin"]["user_id"]]
    themes = yaml.safe_load((ROOT / "config" / "themes.yaml").read_text())["themes"]
    space = _api(server, "POST", "/_matrix/client/v3/createRoom", mod, {
        "name": "DIA — Ondernemend Emmen × Wirtschaftsverband Emsland",
        "topic": "Grensoverschrijdend netwerk / Grenzüberschreitendes Netzwerk",
        "creation_content": {"type": "m.space"}, "preset": "private_chat",
        "invite": [bot, *members]})["room_id"]
    _make_admin(server, mod, space, bot)
    state = {"space": space, "rooms": {}}
    for theme in themes:
        name = f"{theme['nl']['name']} / {theme['de']['name']}"
        topic = f"🇳🇱 {theme['nl']['topic']}\n🇩🇪 {theme['de']['topic']}"
        room = _api(server, "POST", "/_matrix/client/v3/createRoom", mod, {
            "name": name, "topic": topic, "preset": "private_chat", "invite": [bot, *members],
            "initial_state": [{"type": "m.space.parent", "state_key": space,
                               "content": {"via": [server.server_name], "canonical": True}}]})["room_id"]
        _make_admin(server, mod, room, bot)
        _api(server, "PUT", f"/_matrix/client/v3/rooms/{urllib.parse.quote(space)}/state/m.space.child/{urllib.parse.quote(room)}",
             mod, {"via": [server.server_name], "suggested": bool(theme.get("suggest"))})
        state["rooms"][theme["slug"]] = room
    state_path.write_text(json.dumps(state, indent=2))
    return state


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
        state = build_space(server, creds, data / "demo-state.json")
        config = {
            "matrix": {"homeserver": server.url, "user_id": creds["diabot"]["user_id"], "password": PEOPLE["diabot"]},
            "data_dir": str(data / "bot"),
            "bot": {"default_language": "nl", "admins": [creds["moderator"]["user_id"]]},
            "invites": {"allow_servers": [server.server_name], "space": state["space"]},
            "web": {"host": "127.0.0.1", "port": 8080},
            "logging": {"level": "INFO", "format": "console"},
            "plugins": {"core": {}},
        }
        (data / "diabot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        bot = subprocess.Popen([sys.executable, "-m", "diabot", "-c", str(data / "diabot.yaml"), "run"],
                               cwd=ROOT, stdout=open(data / "bot.log", "ab"), stderr=subprocess.STDOUT)
        time.sleep(2)
        if bot.poll() is not None:
            print((data / "bot.log").read_text()[-3000:])
            return 1
        print("\n  diabot demo is running\n")
        print(f"  Homeserver:   {server.url}   (server name: {server.server_name})")
        print("  Logins (username / password), e.g. in Element: 'Sign in' → edit homeserver:")
        for name in ("moderator", "jan", "katrin"):
            print(f"    {name:<10} / {PEOPLE[name]}")
        print(f"  Bot:          {creds['diabot']['user_id']}  — try !help, !hulp, !hilfe, !ping")
        print(f"  Space:        {state['space']} with {len(state['rooms'])} themed rooms (invites are waiting)")
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
