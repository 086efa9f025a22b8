"""A throwaway PostgreSQL on 127.0.0.1 for the storage tests.

Uses Debian's `postgresql` package (installed here if missing, when we are
root) but never its system cluster: each `PostgresServer` runs its own
cluster in a directory of the caller's, with durability switched off, a
password-protected `diabot` role and database, and TCP on 127.0.0.1 only.

    python -m devtools.postgres ensure    # install if missing, print bin dir
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

_PG_ROOT = Path("/usr/lib/postgresql")
# A fixed path, not tempfile's: processes with different TMPDIRs must share it.
_INSTALL_LOCK = Path("/tmp/diabot-postgres-install.lock")
_SUPERUSER = "postgres"  # the cluster's superuser name, whatever OS user runs it
_ROLE = "diabot"
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # safe unquoted in URLs, fits NAMEDATALEN


def _find_bin_dir() -> Path | None:
    """Newest /usr/lib/postgresql/N/bin that has the server tools."""
    dirs = [d / "bin" for d in _PG_ROOT.glob("*") if d.name.isdigit()]
    dirs = [d for d in dirs if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]
    return max(dirs, key=lambda d: int(d.parent.name)) if dirs else None


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Wait for dpkg's own lock too: something other than us may be running apt.
    cmd = ["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", *args]
    return subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def _stop_system_clusters() -> None:
    """Stop the cluster(s) the package just created and may have started.

    Nothing of ours uses them; left running they would hold port 5432 and
    memory for the life of the machine. (Docker-style images ship a
    policy-rc.d that keeps them from starting at all, then this is a no-op.)
    """
    listing = subprocess.run(["pg_lsclusters", "--no-header"], check=False, capture_output=True, text=True)
    for line in listing.stdout.splitlines():
        version, name, _port, status, *_ = line.split()
        if status.startswith("online"):
            subprocess.run(["pg_ctlcluster", version, name, "stop"], check=False, capture_output=True)


def ensure_postgres_installed() -> Path:
    """Return the PostgreSQL bin dir (initdb, pg_ctl, psql, pg_dump), installing it if needed."""
    if bin_dir := _find_bin_dir():
        return bin_dir
    if os.geteuid() != 0:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql and we are not root "
            "to install them: run `sudo apt-get install --no-install-recommends postgresql`"
        )
    with open(_INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if bin_dir := _find_bin_dir():  # another process installed it while we waited
            return bin_dir
        install = ("install", "-y", "--no-install-recommends", "postgresql")
        # `update` costs time and only matters when the package lists are empty or stale.
        result = _apt(*install)
        if result.returncode != 0:
            update = _apt("update")
            if update.returncode != 0:
                raise RuntimeError(f"apt-get update failed:\n{update.stderr[-3000:]}")
            result = _apt(*install)
        if result.returncode != 0:
            raise RuntimeError(f"apt-get install postgresql failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        _stop_system_clusters()
    if bin_dir := _find_bin_dir():
        return bin_dir
    raise RuntimeError("postgresql was installed but no initdb/pg_ctl is under /usr/lib/postgresql/*/bin")


class PostgresServer:
    """One private cluster under base_dir, listening on 127.0.0.1:port.

    Layout: base_dir/secrets.json (passwords, caller-owned, 0600) and
    base_dir/pg/ (owned by the server's OS user: data/, the socket, server.log).
    Starting again on the same base_dir reuses the cluster and its passwords.
    """

    def __init__(self, base_dir: Path, port: int) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.bin = ensure_postgres_installed()
        self.pg_dir = self.base_dir / "pg"
        self.data_dir = self.pg_dir / "data"
        self.log_file = self.pg_dir / "server.log"
        self._secrets_file = self.base_dir / "secrets.json"
        self._secrets: dict[str, str] = {}
        # initdb and postgres refuse to run as root: as root, hand the cluster to `postgres`.
        self._as_root = os.geteuid() == 0

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.pg_dir.mkdir(exist_ok=True)
        if self._as_root:
            self._hand_to_postgres()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._secrets = json.loads(self._secrets_file.read_text())
        result = self._run_server_tool(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed ({result.stderr.strip()}); server log tail:\n{self._log_tail()}")
        atexit.unregister(self.stop)  # once per server, however often it is restarted
        atexit.register(self.stop)  # a test run that dies should not leave a postmaster behind
        # Idempotent, so a cluster whose first start died before this still gets its role.
        self.psql(
            "postgres",
            f"""
            SELECT 'CREATE ROLE {_ROLE} LOGIN PASSWORD ' || quote_literal(:'pw')
             WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{_ROLE}') \\gexec
            SELECT 'CREATE DATABASE {_ROLE} OWNER {_ROLE}'
             WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{_ROLE}') \\gexec
            """,
            variables={"pw": self._secrets[_ROLE]},
        )
        return self

    def stop(self) -> None:
        """Fast shutdown; a no-op when the server is not running."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        result = self._run_server_tool("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60")
        if result.returncode != 0 and (self.data_dir / "postmaster.pid").exists():
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------

    @property
    def password(self) -> str:
        return self._secrets[_ROLE]

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `diabot` database, as the `diabot` role."""
        return self.url_for(_ROLE)

    def url_for(self, dbname: str) -> str:
        return f"postgresql+asyncpg://{_ROLE}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A fresh database owned by `diabot` (per-test isolation); returns its URL."""
        self.psql("postgres", f'CREATE DATABASE "{_check_name(name)}" OWNER {_ROLE}')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        # FORCE: a test that failed may have left the bot's connections open.
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{_check_name(name)}" WITH (FORCE)')

    def dump(self, dbname: str = _ROLE) -> str:
        """The database's rows as INSERT statements, for 'is this user gone?' greps."""
        return self._client("pg_dump", "--data-only", "--inserts", "-d", _check_name(dbname))

    def psql(self, dbname: str, sql: str, variables: dict[str, str] | None = None) -> str:
        """Run SQL as the superuser; returns unaligned, tuples-only output."""
        args = ["-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", dbname]
        for key, value in (variables or {}).items():
            args += ["-v", f"{key}={value}"]
        # Via stdin, not -c: -c does not expand :'variables' or run \gexec.
        return self._client("psql", *args, stdin=sql)

    # -- internals ---------------------------------------------------------

    def _client(self, tool: str, *args: str, stdin: str | None = None) -> str:
        # No inherited PG* variables: PGHOSTADDR, PGSERVICE & co. could point us at another server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGPASSWORD"] = self._secrets[_SUPERUSER]
        cmd = [str(self.bin / tool), "-h", "127.0.0.1", "-p", str(self.port), "-U", _SUPERUSER, "-w", *args]
        result = subprocess.run(cmd, check=False, input=stdin or "", capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def _run_server_tool(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # cwd: the postgres user may not be allowed into the caller's cwd, which makes initdb grumble.
        return subprocess.run(
            cmd, check=False, cwd=self.pg_dir, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )

    def _hand_to_postgres(self) -> None:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root but there is no `postgres` system user to run the server") from None
        shutil.chown(self.pg_dir, "postgres", "postgres")
        os.chmod(self.pg_dir, 0o700)
        # The server must traverse every parent (pytest makes its temp dirs 0700):
        # add o+x only, which lets it pass through without listing anything.
        for parent in [self.base_dir, *self.base_dir.parents]:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(parent, stat.S_IMODE(mode) | stat.S_IXOTH)

    def _initdb(self) -> None:
        if self.data_dir.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.data_dir)
        creds = {_SUPERUSER: secrets.token_hex(16), _ROLE: secrets.token_hex(16)}
        self._secrets_file.touch(mode=0o600)
        self._secrets_file.write_text(json.dumps(creds))
        pwfile = self.pg_dir / "superuser.pw"  # inside pg_dir: readable by the server's user only
        pwfile.write_text(creds[_SUPERUSER])
        if self._as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            result = self._run_server_tool(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                _SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",  # passwords even on the socket: no trust, no peer
                "--encoding=UTF8",
                "--no-locale",  # same collation everywhere, no locale packages needed
                "--no-sync",
                "--no-instructions",
            )
        finally:
            pwfile.unlink()
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        socket_dir = str(self.pg_dir)
        if len(socket_dir) > 90:  # sun_path holds 107 bytes; TCP is all we use anyway
            socket_dir = ""
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": socket_dir,
            # Throwaway data: trade crash safety for speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        # In the file rather than `pg_ctl -o`, which goes through a shell and would split paths with spaces.
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# devtools.postgres\n")
            conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"


def _check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"database name must match {_NAME_RE.pattern}: {name!r}")
    return name


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        print(f"PostgreSQL for the tests: {ensure_postgres_installed()}")
    else:
        sys.exit("usage: python -m devtools.postgres ensure")
