"""A throwaway Synapse on 127.0.0.1 for tests, benchmarks and the demo.

Standard library only: imported by pytest fixtures and by the demo alike.
Synapse lives in its own venv (.venv-synapse), apart from the bot's.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
SYNAPSE_REQUIREMENT = "matrix-synapse>=1.140,<2"
_RELAXED = {"per_second": 1000, "burst_count": 100000}
# Without these, every test client (all from 127.0.0.1) shares tiny limits:
# 5 logins per IP, then a 5-minute 429.
RATE_LIMITS = {
    **{k: _RELAXED for k in (
        "rc_message", "rc_registration", "rc_joins_per_room", "rc_room_creation", "rc_admin_redaction",
        "rc_3pid_validation", "rc_third_party_invite", "rc_media_create", "rc_delayed_event_mgmt", "rc_reports",
        "rc_user_directory", "rc_profile", "rc_key_requests", "rc_registration_token_validity")},
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_presence": {"per_user": _RELAXED},
}

__all__ = ["SynapseServer", "ensure_synapse_venv", "free_port"]


def default_venv() -> Path:
    return Path(os.environ.get("DIABOT_SYNAPSE_VENV", ROOT / ".venv-synapse"))


def ensure_synapse_venv(venv: Path | None = None) -> Path:
    """Install Synapse into its own venv once; returns that venv's python."""
    venv = venv or default_venv()
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import synapse"], capture_output=True).returncode == 0:
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits, then finds it installed
        if not (python.exists() and subprocess.run([python, "-c", "import synapse"], capture_output=True).returncode == 0):
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            result = subprocess.run([python, "-m", "pip", "install", "-q", SYNAPSE_REQUIREMENT], capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"installing Synapse failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return python


class SynapseServer:
    def __init__(self, base_dir: Path, port: int = 8008, server_name: str = "localhost", venv: Path | None = None):
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.server_name = server_name
        self.venv = venv or default_venv()
        self.proc: subprocess.Popen | None = None
        self._admin_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle --------------------------------------------------------

    def _write_config(self, python: Path) -> Path:
        cfg = self.base_dir / "homeserver.yaml"
        generated = self.base_dir / "generated.yaml"
        if not generated.exists():
            subprocess.run([python, "-m", "synapse.app.homeserver", "--server-name", self.server_name,
                            "--config-path", str(generated), "--data-directory", str(self.base_dir),
                            "--generate-config", "--report-stats=no"], check=True, capture_output=True, cwd=self.base_dir)
        secrets = {}
        for key in ("signing_key_path", "macaroon_secret_key", "form_secret", "registration_shared_secret"):
            match = re.search(rf"^{key}:\s*\"?([^\"\n]+)\"?\s*$", generated.read_text(), re.M)
            if match:
                secrets[key] = match.group(1)
        (self.base_dir / "log.config").write_text(json.dumps({
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                                  "filename": str(self.base_dir / "homeserver.log")}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }))
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.base_dir / "homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                           "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": str(self.base_dir / "homeserver.db")}},
            "log_config": str(self.base_dir / "log.config"),
            "media_store_path": str(self.base_dir / "media_store"),
            "enable_registration": False,
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "report_stats": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            **RATE_LIMITS,
            **secrets,
        }
        cfg.write_text(json.dumps(config, indent=1))  # JSON is YAML
        return cfg

    def start(self, timeout: float = 60) -> "SynapseServer":
        self.base_dir.mkdir(parents=True, exist_ok=True)
        python = ensure_synapse_venv(self.venv)
        cfg = self._write_config(python)
        if self._answers():
            raise RuntimeError(f"port {self.port} is already in use")
        out = open(self.base_dir / "synapse.stdout", "ab")
        self.proc = subprocess.Popen([python, "-m", "synapse.app.homeserver", "--config-path", str(cfg)],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=self.base_dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.proc.returncode}:\n{self._log_tail()}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Synapse not ready in {timeout}s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> "SynapseServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _log_tail(self) -> str:
        parts = []
        for name in ("synapse.stdout", "homeserver.log"):
            path = self.base_dir / name
            if path.exists():
                parts.append("\n".join(path.read_text(errors="replace").splitlines()[-30:]))
        return "\n".join(parts)

    # ---- API ----------------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                return err.code, json.loads(err.read() or b"{}")
            except ValueError:
                return err.code, {}

    def _shared_secret(self) -> str:
        return json.loads((self.base_dir / "homeserver.yaml").read_text())["registration_shared_secret"]

    def register(self, username: str, password: str, admin: bool = False) -> dict:
        """Shared-secret registration (no rate limits); existing user: log in."""
        _, nonce = self.request("GET", "/_synapse/admin/v1/register")
        mac = hmac.new(self._shared_secret().encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce["nonce"].encode(), username.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        status, data = self.request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce["nonce"], "username": username, "password": password, "admin": admin, "mac": mac.hexdigest()})
        if status == 200:
            return {k: data[k] for k in ("user_id", "access_token", "device_id")}
        if data.get("errcode") == "M_USER_IN_USE":
            return self.login(username, password)
        raise RuntimeError(f"register {username}: {status} {data}")

    def login(self, username: str, password: str) -> dict:
        status, data = self.request("POST", "/_matrix/client/v3/login", {
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": username}, "password": password})
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {data}")
        return {k: data[k] for k in ("user_id", "access_token", "device_id")}

    @property
    def admin_token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.register("synapse-admin", "synapse-admin-pw", admin=True)["access_token"]
        return self._admin_token

    def override_ratelimit(self, user_id: str) -> None:
        status, data = self.request("POST", f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
                                    {"messages_per_second": 0, "burst_count": 0}, token=self.admin_token)
        if status != 200:
            raise RuntimeError(f"override_ratelimit {user_id}: {status} {data}")


if __name__ == "__main__":
    # `python -m devtools.synapse ensure`: install Synapse into its venv.
    if sys.argv[1:] == ["ensure"]:
        print(ensure_synapse_venv())
    else:
        sys.exit("usage: python -m devtools.synapse ensure")
