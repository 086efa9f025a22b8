"""Runs diabot as a real subprocess (`python -m diabot run`), so tests can
SIGKILL and restart it exactly as an operator would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    def __init__(
        self,
        workdir: Path,
        homeserver: str,
        web_port: int,
        *,
        password: str,
        allow_users: list[str],
        extra: dict | None = None,
        user_id: str = "@diabot:localhost",
        identity_file: Path | None = None,
    ):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        keys = workdir / "data" / "cross_signing.json"
        if identity_file is not None and not keys.exists():
            keys.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(identity_file, keys)
        self.config_path = workdir / "diabot.yaml"
        self.log_path = workdir / "bot.log"
        self.web_port = web_port
        self.user_id = user_id
        config = {
            "matrix": {
                "homeserver": homeserver,
                "user_id": user_id,
                "password": password,
                "sync_timeout_ms": 5000,
                "max_retry_wait_s": 1,
            },
            "data_dir": str(workdir / "data"),
            "bot": {"default_language": "en"},
            "invites": {"allow_users": allow_users},
            "web": {"host": "127.0.0.1", "port": web_port},
            "logging": {"level": "INFO", "format": "json"},
            "plugins": {"core": {}},
        }
        for key, value in (extra or {}).items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
        self.config = config
        self.rewrite_config()
        self.proc: subprocess.Popen | None = None
        self.failpoint_file = workdir / "failpoint"

    def rewrite_config(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.config))

    def arm_failpoint(self, name: str) -> None:
        """The running bot dies (exit 137, like SIGKILL) when it reaches the named failpoint, once:
        `crash-before-token-save`, `after-create-room:<intent>` (e.g. `after-create-room:direct:@bernd:localhost`)."""
        self.failpoint_file.write_text(name)

    def start(self, timeout: float = 60) -> BotProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the bot process owns it until it exits
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # The bot with file-armed failpoints (arm_failpoint); production runs `-m diabot`, where they are no-ops.
        failing_bot = ["-m", "tests.support.failing_bot", str(self.failpoint_file)]
        self.proc = subprocess.Popen(
            [sys.executable, *failing_bot, "-c", str(self.config_path), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.health()[0] == 200:
                return self
            time.sleep(0.2)
        raise TimeoutError(f"bot not healthy in {timeout}s:\n{self.log_tail()}")

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/health", timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:  # 503: the body still says what is wrong
            try:
                return err.code, json.loads(err.read())
            except ValueError:
                return err.code, {}
        except OSError:
            return 0, {}

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=2) as resp:
            return resp.read().decode()

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a crash or an OOM kill."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def cli(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `diabot -c <this bot's config> ARGS` as an operator would."""
        return subprocess.run(
            [sys.executable, "-m", "diabot", "-c", str(self.config_path), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
