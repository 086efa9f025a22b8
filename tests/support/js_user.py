"""A Matrix user on matrix-js-sdk (Element's SDK) for integration tests.

`JsUser` runs tests/support/jsclient/strict_client.mjs as a child process: it
logs in with a password (a fresh device), cross-signs that device and, in
"strict" mode, excludes insecure devices the way current Element does
(MSC4153). That is the only way to check that people on Element can read the
bot and the bot can read them; nio's own test user has no cross-signing.

The child speaks JSON lines: commands on stdin, answers and every timeline
event (after its decryption attempt, and again on every retry) on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

JSCLIENT_DIR = Path(__file__).resolve().parent / "jsclient"
SCRIPT = JSCLIENT_DIR / "strict_client.mjs"
MIN_NODE = 20

Event = dict[str, Any]
# A failure a late room key (to-device) can still cure; any other reason is what the user keeps seeing.
PENDING = frozenset({"MEGOLM_UNKNOWN_INBOUND_SESSION_ID"})


class JsClientError(RuntimeError):
    """The js client refused a command or died."""


def _installed_sdk_matches_lock() -> bool:
    """node_modules holds the matrix-js-sdk version package-lock.json pins."""
    installed = JSCLIENT_DIR / "node_modules" / "matrix-js-sdk" / "package.json"
    lockfile = JSCLIENT_DIR / "package-lock.json"
    if not installed.exists():
        return False
    if not lockfile.exists():
        return True
    wanted = json.loads(lockfile.read_text())["packages"]["node_modules/matrix-js-sdk"]["version"]
    return json.loads(installed.read_text())["version"] == wanted


def ensure_node_modules() -> None:
    """Install the js client's dependencies once (`npm ci`, or `npm install`
    without a lockfile); safe to call from concurrent test processes."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError(
            "the js-sdk test client needs Node.js >= 20 and npm on PATH (Debian: apt-get install nodejs npm)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE:
        raise RuntimeError(f"the js-sdk test client needs Node.js >= {MIN_NODE}, found {version} at {node}")
    if _installed_sdk_matches_lock():  # fast path, no lock needed
        return
    # The lock lives outside the checkout so it never shows up in git status.
    tag = hashlib.sha256(str(JSCLIENT_DIR).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"diabot-jsclient-{tag}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent caller waits here, then finds it installed
        if _installed_sdk_matches_lock():
            return
        verb = "ci" if (JSCLIENT_DIR / "package-lock.json").exists() else "install"
        result = subprocess.run(
            [npm, verb, "--no-audit", "--no-fund", "--silent"],
            cwd=JSCLIENT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not _installed_sdk_matches_lock():
            raise RuntimeError(
                f"npm {verb} in {JSCLIENT_DIR} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
            )


class JsUser:
    """One js-sdk client (one new device) for `user_id`; `mode` is "strict" (Element
    today: only cross-signed devices) or "legacy" (all devices, with shields)."""

    def __init__(
        self, homeserver: str, user_id: str, password: str, *, mode: str = "strict", log_path: Path | None = None
    ):
        if mode not in ("strict", "legacy"):
            raise ValueError(f"mode must be strict or legacy, not {mode!r}")
        self.homeserver, self.user_id, self.password, self.mode = homeserver, user_id, password, mode
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="jsclient-", suffix=".log")
            os.close(fd)
        self.log_path = Path(log_path)
        self.device_id: str | None = None
        self.info: dict[str, Any] = {}  # the child's "ready" line: cross_signing_ready, signed_by_owner, ...
        self.events: list[Event] = []  # every event line, in arrival order (an event again on each retry)
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._ready: asyncio.Future | None = None
        self._new = asyncio.Event()

    async def start(self, timeout: float = 60) -> Self:
        await asyncio.to_thread(ensure_node_modules)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own handle
            self._proc = await asyncio.create_subprocess_exec(
                "node",
                str(SCRIPT),
                self.homeserver,
                self.user_id,
                self.password,
                self.mode,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=JSCLIENT_DIR,
                limit=16 * 1024 * 1024,
            )  # an event line can be 64 KB and more
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(self._proc))
        try:
            self.info = await asyncio.wait_for(self._ready, timeout)
        except BaseException:
            await self.close()
            raise
        self.device_id = self.info["device_id"]
        return self

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        while line := await proc.stdout.readline():
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # not ours; the child logs to stderr only
            if "event" in msg:
                self.events.append(msg["event"])
                self._new.set()
            elif msg.get("ready"):
                if not self._ready.done():
                    self._ready.set_result(msg)
            elif (future := self._pending.pop(msg.get("id"), None)) and not future.done():
                future.set_result(msg)
        # stdout closed: the child is gone; fail whoever is still waiting.
        code = await proc.wait()
        error = JsClientError(f"js client {self.user_id} exited with {code}:\n{self.log_tail()}")
        for future in [self._ready, *self._pending.values()]:
            if future and not future.done():
                future.set_exception(error)
        self._pending.clear()
        self._new.set()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def close(self, timeout: float = 10) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.close()  # EOF: the child stops its client and exits
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader:
            try:
                await asyncio.wait_for(self._reader, timeout)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()

    # ---- commands ----------------------------------------------------------------

    async def request(self, op: str, timeout: float = 60, **args: Any) -> dict[str, Any]:
        """Send one command; return the answer, or raise JsClientError if it failed."""
        if self._proc is None or self._proc.returncode is not None:
            raise JsClientError(f"js client {self.user_id} is not running:\n{self.log_tail()}")
        self._next_id += 1
        cmd_id = self._next_id
        future = asyncio.get_running_loop().create_future()
        self._pending[cmd_id] = future
        self._proc.stdin.write(json.dumps({"id": cmd_id, "op": op, **args}).encode() + b"\n")
        await self._proc.stdin.drain()
        try:
            answer = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._pending.pop(cmd_id, None)
            raise JsClientError(f"{op} got no answer within {timeout}s:\n{self.log_tail()}") from None
        if not answer.get("ok"):
            raise JsClientError(f"{op} {args} failed: {answer.get('error')} ({answer.get('errcode')})")
        return answer

    async def create_room(
        self, *, invite: list[str] = (), encrypted: bool = True, is_direct: bool = False, name: str | None = None
    ) -> str:
        answer = await self.request(
            "create_room",
            invite=list(invite),
            encrypted=encrypted,
            is_direct=is_direct,
            **({"name": name} if name else {}),
        )
        return answer["room_id"]

    async def join(self, room_id: str) -> None:
        await self.request("join", room=room_id)

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 30) -> None:
        await self.request(
            "wait_joined", timeout=timeout + 5, room=room_id, user=user_id, timeout_ms=int(timeout * 1000)
        )

    async def send(
        self,
        room_id: str,
        body: str = "",
        *,
        msgtype: str = "m.text",
        content: dict | None = None,
        event_type: str = "m.room.message",
    ) -> str:
        """Send a message (or any `content` instead); returns its event id."""
        args: dict[str, Any] = {"room": room_id, "body": body, "msgtype": msgtype, "type": event_type}
        if content is not None:
            args["content"] = content
        return (await self.request("send", **args))["event_id"]

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        """[{device_id, signed_by_owner, cross_signing_verified}] as this client sees `user_id`."""
        return (await self.request("devices", user=user_id))["devices"]

    # ---- observing -------------------------------------------------------------------

    def latest(self, event_id: str) -> Event | None:
        """The newest report for an event (a later one wins after a retried decryption)."""
        return next((e for e in reversed(self.events) if e["event_id"] == event_id), None)

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 30) -> Event:
        """The first reported event (seen already or still to come) that matches."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [(e["sender"], e["type"], e["content"].get("body"), e["failure"]) for e in self.events[-10:]]
                raise AssertionError(
                    f"{self.user_id} ({self.mode}) saw no matching event in {timeout}s; "
                    f"last events (sender, type, body, failure): {recent}"
                )
            if self._proc is None or self._proc.returncode is not None:
                raise JsClientError(f"js client {self.user_id} is not running:\n{self.log_tail()}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), min(remaining, 0.5))

    async def reply_to(self, event_id: str, sender: str, timeout: float = 30) -> Event:
        """`sender`'s decrypted (or plain) reply to `event_id`."""

        def is_reply(e: Event) -> bool:
            rel = e["content"].get("m.relates_to") or {}
            return (
                e["sender"] == sender
                and (e["decrypted"] or not e["encrypted"])
                and rel.get("m.in_reply_to", {}).get("event_id") == event_id
            )

        return await self.wait_for(is_reply, timeout)

    async def wait_for_event(self, event_id: str, timeout: float = 30) -> Event:
        """The event once decryption has settled: decrypted, or failed for a reason
        other than a missing room key (which may still arrive and be retried)."""
        return await self.wait_for(lambda e: e["event_id"] == event_id and e["failure"] not in PENDING, timeout)
