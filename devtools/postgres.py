"""A throwaway PostgreSQL on 127.0.0.1 for the storage tests.

Installs Debian's `postgresql` package when it is missing (we are root on
the test machines), then runs its own cluster in a temp dir: initdb as the
`postgres` system user (initdb refuses root), durability off for speed.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

PASSWORD = "diabot-test-" + uuid.uuid4().hex[:8]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def ensure_postgres_installed() -> Path:
    bin_dir = _bin_dir()
    if bin_dir:
        return bin_dir
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL is not installed and we are not root: apt-get install postgresql")
    with open("/tmp/.diabot-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _bin_dir() is None:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]
            if subprocess.run(install, env=env, capture_output=True).returncode != 0:
                subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
                result = subprocess.run(install, env=env, capture_output=True, text=True)
                if result.returncode != 0:
                    raise RuntimeError(f"apt-get install postgresql failed:\n{result.stderr[-3000:]}")
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("postgresql installed but no initdb found under /usr/lib/postgresql")
    return bin_dir


class PostgresServer:
    def __init__(self, base_dir: Path, port: int):
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.bin = ensure_postgres_installed()
        self.data = self.base_dir / "pgdata"
        self.running = False

    def _as_owner(self, *cmd: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return list(cmd)

    def _run(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        result = subprocess.run(self._as_owner(*cmd), capture_output=True, text=True, **kw)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stdout[-1500:]} {result.stderr[-1500:]}")
        return result

    def start(self) -> "PostgresServer":
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # The postgres user must reach the dir through every parent.
            for parent in [self.base_dir, *self.base_dir.parents]:
                if parent == Path("/"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o011)
            shutil.chown(self.base_dir, "postgres")
        if not (self.data / "PG_VERSION").exists():
            pwfile = self.base_dir / "pw"
            pwfile.write_text(PASSWORD)
            if os.geteuid() == 0:
                shutil.chown(pwfile, "postgres")
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=scram-sha-256",
                      f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
            pwfile.unlink()
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.base_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base_dir / "pg.log"), "-o", opts, "-w", "start")
        self.running = True
        self._psql("postgres", "SELECT 1")
        return self

    def stop(self) -> None:
        if self.running:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.running = False

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _env(self) -> dict:
        return dict(os.environ, PGPASSWORD=PASSWORD)

    def _psql(self, db: str, sql: str) -> str:
        result = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True, text=True, env=self._env())
        if result.returncode != 0:
            raise RuntimeError(f"psql: {result.stderr}")
        return result.stdout

    def url_for(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        self._psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        self._psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def dump(self, name: str) -> str:
        """Whole-database dump as SQL text (for 'is this user gone?' checks)."""
        result = subprocess.run([str(self.bin / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "--data-only", "--inserts", name], capture_output=True, text=True, env=self._env())
        if result.returncode != 0:
            raise RuntimeError(f"pg_dump: {result.stderr}")
        return result.stdout


if __name__ == "__main__":
    # `python -m devtools.postgres ensure`: install Debian's postgresql if missing.
    if sys.argv[1:] == ["ensure"]:
        print(ensure_postgres_installed())
    else:
        sys.exit("usage: python -m devtools.postgres ensure")
