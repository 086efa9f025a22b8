"""A throwaway Synapse on 127.0.0.1 for tests, benchmarks and the demo.

Standard library only: imported by pytest fixtures (bot venv) and by the demo
run with plain python3. Synapse itself lives in its own venv (.venv-synapse),
apart from the bot's, because its ~240 MB of pinned deps would fight ours.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Self

from devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
SYNAPSE_REQUIREMENT = "matrix-synapse>=1.160,<2"
# Keys reused from the generated config; everything else we write ourselves.
_SECRET_KEYS = ("signing_key_path", "macaroon_secret_key", "form_secret", "registration_shared_secret")

_RELAXED = {"per_second": 1000, "burst_count": 100000}
# Every test client comes from 127.0.0.1 and shares the per-IP limits; the
# defaults (e.g. 5 logins, then a 5-minute 429) would break the suite.
RATE_LIMITS: dict[str, Any] = {
    **{
        k: _RELAXED
        for k in (
            "rc_message",
            "rc_registration",
            "rc_joins_per_room",
            "rc_room_creation",
            "rc_admin_redaction",
            "rc_3pid_validation",
            "rc_third_party_invite",
            "rc_media_create",
            "rc_delayed_event_mgmt",
            "rc_reports",
            "rc_user_directory",
            "rc_profile",
            "rc_key_requests",
            "rc_registration_token_validity",
        )
    },
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_presence": {"per_user": _RELAXED},
}

# Bypass any *_proxy env vars: the server is always on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

__all__ = ["SynapseServer", "default_venv", "ensure_synapse_venv", "free_port"]


def default_venv() -> Path:
    return Path(os.environ.get("DIABOT_SYNAPSE_VENV") or ROOT / ".venv-synapse")


def _child_env() -> dict[str, str]:
    # A PYTHONPATH/PYTHONHOME inherited from the bot's environment would leak
    # the wrong packages into Synapse's interpreter.
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _has_synapse(python: Path) -> bool:
    return (
        python.exists()
        and subprocess.run(
            [str(python), "-c", "import synapse"], capture_output=True, env=_child_env(), check=False
        ).returncode
        == 0
    )


def ensure_synapse_venv(venv: Path | None = None) -> Path:
    """Install Synapse into its own venv once; return that venv's python."""
    venv = Path(venv or default_venv())
    python = venv / "bin" / "python"
    if _has_synapse(python):  # fast path (~0.3 s), no lock needed
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent caller waits here, then finds it installed
        if not _has_synapse(python):
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            result = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", SYNAPSE_REQUIREMENT],
                capture_output=True,
                text=True,
                env=_child_env(),
                check=False,
            )
            if result.returncode != 0 or not _has_synapse(python):
                raise RuntimeError(
                    f"installing {SYNAPSE_REQUIREMENT} into {venv} failed:\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
                )
    return python


def _proc_state(pid: int) -> str | None:
    """State letter from /proc/PID/stat ('Z' = zombie), None if gone.

    `kill -0` succeeds on a zombie, so it can't tell "dead" from "alive".
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2]  # comm may contain spaces/parens


def _port_free(port: int) -> bool:
    # SO_REUSEADDR like Twisted's listener: TIME_WAIT leftovers from a previous
    # run don't count as "in use", only a live listener does.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class SynapseServer:
    """One Synapse process with its data in `base_dir`; restartable on the same dir."""

    def __init__(self, base_dir: Path, port: int = 8008, server_name: str = "localhost", venv: Path | None = None):
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.server_name = server_name
        self.venv = Path(venv) if venv else default_venv()
        self.proc: subprocess.Popen[bytes] | None = None
        self._admin_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle ----------------------------------------------------------

    def _write_config(self, python: Path) -> Path:
        # Synapse generates the secrets and signing key once (kept in
        # generated.yaml so a restart reuses them); the real config is ours, as
        # JSON (valid YAML), so no YAML library is needed here.
        generated = self.base_dir / "generated.yaml"
        if not generated.exists():
            result = subprocess.run(
                [
                    str(python),
                    "-m",
                    "synapse.app.homeserver",
                    "--server-name",
                    self.server_name,
                    "--config-path",
                    str(generated),
                    "--data-directory",
                    str(self.base_dir),
                    "--generate-config",
                    "--report-stats=no",
                ],
                capture_output=True,
                text=True,
                cwd=self.base_dir,
                env=_child_env(),
                check=False,
            )
            if result.returncode != 0:
                generated.unlink(missing_ok=True)
                raise RuntimeError(f"synapse --generate-config failed:\n{result.stdout}\n{result.stderr}")
        text = generated.read_text()
        secrets: dict[str, str] = {}
        for key in _SECRET_KEYS:
            # Synapse's generated secrets use only [A-Za-z0-9.,;:^&*-_+=#~@]: no quotes to unescape.
            match = re.search(rf'^{key}:\s*"?([^"\n]+?)"?\s*$', text, re.MULTILINE)
            if not match:
                raise RuntimeError(f"{key} not found in {generated}")
            secrets[key] = match.group(1)

        log_config = self.base_dir / "log.config"
        log_config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "formatter": "plain",
                            "filename": str(self.base_dir / "homeserver.log"),
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                },
                indent=1,
            )
        )
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.base_dir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.base_dir / "homeserver.db")}},
            "log_config": str(log_config),
            "media_store_path": str(self.base_dir / "media_store"),
            "enable_registration": False,
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],  # the generated file points at matrix.org: no internet here
            "suppress_key_server_warning": True,
            "report_stats": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "default_room_version": "10",  # predictable; v12 tests ask for it explicitly
            **RATE_LIMITS,
            **secrets,
        }
        cfg = self.base_dir / "homeserver.yaml"
        cfg.write_text(json.dumps(config, indent=1))
        return cfg

    def start(self, timeout: float = 60) -> Self:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.base_dir.mkdir(parents=True, exist_ok=True)
        python = ensure_synapse_venv(self.venv)
        cfg = self._write_config(python)
        if not _port_free(self.port):
            raise RuntimeError(f"port 127.0.0.1:{self.port} is already in use; cannot start Synapse there")
        with open(self.base_dir / "synapse.stdout", "ab") as out:
            # Own session: Ctrl-C in the demo's terminal must not reach Synapse
            # before we stop it in order, and stop() can signal the whole group.
            self.proc = subprocess.Popen(
                [str(python), "-m", "synapse.app.homeserver", "--config-path", str(cfg)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=_child_env(),
                start_new_session=True,
            )
        atexit.register(self.stop)  # don't leave an orphan if the caller forgets
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise RuntimeError(f"Synapse exited with code {code} during start:\n{self._log_tail()}")
            if self._ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Synapse not ready within {timeout} s:\n{self._log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        atexit.unregister(self.stop)
        if proc is None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if self._gone(proc):
                break
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and not self._gone(proc):
                time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)  # reap the zombie

    @staticmethod
    def _gone(proc: subprocess.Popen[bytes]) -> bool:
        # poll() reaps our child; /proc covers the case where someone else's
        # waitpid(-1) got there first or the child is a not-yet-reaped zombie.
        return proc.poll() is not None or _proc_state(proc.pid) in (None, "Z")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _ready(self) -> bool:
        try:
            with _OPENER.open(f"{self.url}/_matrix/client/versions", timeout=1) as resp:
                return resp.status == 200
        except OSError:  # URLError, HTTPError and ConnectionRefused are all OSErrors
            return False

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for name in ("synapse.stdout", "homeserver.log"):
            path = self.base_dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    # ---- HTTP API -------------------------------------------------------------

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """JSON request to this server; returns (status, decoded body) even for 4xx/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with _OPENER.open(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw or b"{}")
            except ValueError:
                return err.code, {"error": raw.decode(errors="replace")}

    def _shared_secret(self) -> str:
        return json.loads((self.base_dir / "homeserver.yaml").read_text())["registration_shared_secret"]

    def register(self, username: str, password: str, admin: bool = False) -> dict[str, str]:
        """Create a user via the shared-secret admin API (not rate limited); log in if it exists.

        Returns {user_id, access_token, device_id}: enough for restore_login().
        """
        status, nonce_body = self.request("GET", "/_synapse/admin/v1/register")
        if status != 200:
            raise RuntimeError(f"register nonce: {status} {nonce_body}")
        nonce = nonce_body["nonce"]
        mac = hmac.new(
            self._shared_secret().encode(),
            b"\x00".join([nonce.encode(), username.encode(), password.encode(), b"admin" if admin else b"notadmin"]),
            hashlib.sha1,
        ).hexdigest()
        status, data = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": username, "password": password, "admin": admin, "mac": mac},
        )
        if status == 200:
            return {k: data[k] for k in ("user_id", "access_token", "device_id")}
        if data.get("errcode") == "M_USER_IN_USE":
            return self.login(username, password)
        raise RuntimeError(f"register {username}: {status} {data}")

    def login(self, username: str, password: str) -> dict[str, str]:
        """Password login (a new device each time); returns {user_id, access_token, device_id}."""
        status, data = self.request(
            "POST",
            "/_matrix/client/v3/login",
            {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": username}, "password": password},
        )
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {data}")
        return {k: data[k] for k in ("user_id", "access_token", "device_id")}

    @property
    def admin_token(self) -> str:
        if self._admin_token is None:
            self._admin_token = self.register("synapse-admin", "synapse-admin-pw", admin=True)["access_token"]
        return self._admin_token

    def override_ratelimit(self, user_id: str) -> None:
        """Lift the message rate limit for one user (0/0 means "no limit")."""
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id, safe='')}/override_ratelimit"
        status, data = self.request("POST", path, {"messages_per_second": 0, "burst_count": 0}, token=self.admin_token)
        if status != 200:
            raise RuntimeError(f"override_ratelimit {user_id}: {status} {data}")


if __name__ == "__main__":
    # `python3 -m devtools.synapse ensure`: install Synapse into its venv ahead of time.
    if sys.argv[1:] == ["ensure"]:
        print(f"Synapse for the tests: {ensure_synapse_venv()}")
    else:
        sys.exit("usage: python3 -m devtools.synapse ensure")
